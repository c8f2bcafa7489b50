import { Logger } from '@nestjs/common';

// Suites print warnings and errors only; tests that check logs install their own logger.
Logger.overrideLogger(['error', 'warn']);
