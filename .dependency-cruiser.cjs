/**
 * Architecture rules (the original's "audit" test, done with dependency-cruiser):
 * node code does no I/O of its own, and only the Kafka bus adapter talks to kafkajs.
 * Run by test/unit/architecture.spec.ts and `npm run lint:arch`.
 * Environment access (`process`, `fetch`) in node code is caught by ESLint (eslint.config.js).
 */
const IO_MODULES = [
  'fs',
  'fs/promises',
  'net',
  'tls',
  'dgram',
  'dns',
  'dns/promises',
  'http',
  'https',
  'http2',
  'child_process',
  'cluster',
  'worker_threads',
  'os',
  'process',
  'readline',
  'repl',
  'inspector',
  'v8',
  'vm',
  'module',
];

/** The library's folders, lowest first: a folder imports only from the folders before it. */
const LAYERS = [
  'logging',
  'bus',
  'wire',
  'tracing',
  'database',
  'delivery',
  'introspection',
  'dispatch',
  'runtime',
];

const layerRules = LAYERS.slice(0, -1).map((layer, index) => ({
  name: `${layer}-imports-downward`,
  comment: `src/intelligence/${layer}/ sits below ${LAYERS.slice(index + 1).join(', ')}.`,
  severity: 'error',
  from: { path: `(^|/)src/intelligence/${layer}/` },
  to: { path: `(^|/)src/intelligence/(${LAYERS.slice(index + 1).join('|')}|health|metrics)/` },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'nodes-no-io',
      comment:
        'Intelligence nodes are pure compute plus thin handlers: no network, file or environment access.',
      severity: 'error',
      from: { path: '(^|/)src/nodes/' },
      to: { dependencyTypes: ['core'], path: `^(node:)?(${IO_MODULES.join('|')})$` },
    },
    {
      name: 'nodes-no-io-libraries',
      comment: 'Node code publishes through the DispatchContext, never through a client library.',
      severity: 'error',
      from: { path: '(^|/)src/nodes/' },
      to: {
        path: 'node_modules/(kafkajs|axios|undici|node-fetch|pg|mysql2|ioredis|redis|mongodb)/',
      },
    },
    {
      name: 'only-kafka-bus-imports-kafka-clients',
      comment:
        'kafkajs and @platformatic/kafka are implementation details of the Kafka bus adapters (src/intelligence/bus/kafka*.ts, platformatic*.ts).',
      severity: 'error',
      from: {
        path: '(^|/)src/',
        pathNot: '(^|/)src/intelligence/bus/(kafka|platformatic)[^/]*\\.ts$',
      },
      to: { path: 'node_modules/(kafkajs|@platformatic/kafka)/' },
    },
    {
      name: 'only-database-imports-pg',
      comment: 'pg and node-pg-migrate are implementation details of src/intelligence/database/.',
      severity: 'error',
      from: { path: '(^|/)src/', pathNot: '(^|/)src/intelligence/database/' },
      to: { path: 'node_modules/(pg|pg-pool|pg-protocol|node-pg-migrate)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
