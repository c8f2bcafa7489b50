import { Logger } from '@nestjs/common';

// Suites print nothing unless TEST_LOGS is set (faults make kafkajs log a lot on purpose);
// tests that check logs install their own logger with capture-logs.ts.
Logger.overrideLogger(process.env.TEST_LOGS ? ['error', 'warn', 'log'] : false);
