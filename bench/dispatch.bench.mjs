// What dispatching costs, each part against a baseline in the same run:
//   a) in process: DispatchEngine.dispatch (and MessageDelivery.deliver) per message vs
//      JSON.parse + the handler, and vs a bare handler call;
//   b) on a real broker: KafkaEventBus + MessageDelivery + DispatchEngine consume throughput
//      vs a plain kafkajs eachBatch consumer calling the same handler.
//
//   npm run bench:dispatch
//
// Env: KAFKA_BROKERS (use these brokers instead of starting one), BENCH_MESSAGES (20000, part b),
// BENCH_ROUNDS (3, part b), BENCH_INPROC_MESSAGES (50000), BENCH_INPROC_ROUNDS (7),
// BENCH_KAFKA=0 (part a only), BENCH_LOGS=1 (Nest and kafkajs errors on stderr).
import 'reflect-metadata';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import { runInProcess } from './support/dispatch-inprocess.mjs';
import { envInt, runBench } from './support/bench-stats.mjs';
import { acquireBroker, cleanupOnSignals, runKafka } from './support/dispatch-kafka.mjs';

const KAFKA = {
  messages: envInt('BENCH_MESSAGES', 20_000),
  rounds: envInt('BENCH_ROUNDS', 3),
};
const IN_PROCESS = {
  messages: envInt('BENCH_INPROC_MESSAGES', 50_000),
  rounds: envInt('BENCH_INPROC_ROUNDS', 7),
};

async function main() {
  // The engine, the delivery and the bus log through Nest's Logger.
  Logger.overrideLogger(process.env.BENCH_LOGS ? ['error'] : false);
  const started = performance.now();
  console.log('Dispatch cost: DispatchEngine / MessageDelivery vs the minimum, same run');
  console.log(`  node: ${process.version}, ${availableParallelism()} CPUs`);

  await runInProcess(IN_PROCESS);

  if (process.env.BENCH_KAFKA === '0') {
    console.log('\n(part b skipped: BENCH_KAFKA=0)');
  } else {
    const broker = await acquireBroker();
    cleanupOnSignals(broker.cleanup);
    try {
      await runKafka(broker, KAFKA);
    } finally {
      await broker.cleanup();
    }
  }
  console.log(`\nTotal run time ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

await runBench(main);
