import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = process.cwd();
const manifest = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>;
};

const MAIN = `import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { IntelligenceModule } from 'nestjs-intelligence';

class AppModule {}
Module({ imports: [IntelligenceModule.forRoot({ serviceName: 'packaged-app' })] })(AppModule);

const app = await NestFactory.create(AppModule, { logger: false });
await app.listen(0, '127.0.0.1');
const { port } = app.getHttpServer().address();
const response = await fetch('http://127.0.0.1:' + port + '/health');
console.log(JSON.stringify({ status: response.status, body: await response.json() }));
await app.close();
`;

const TYPED_USE = `import { Injectable, Module } from '@nestjs/common';
import {
  IntelligenceHandler,
  IntelligenceModule,
  IntelligenceNode,
  INTELLIGENCE_REDACT_PATHS,
  KafkaEventBus,
  LogSanitizer,
  type DispatchContext,
  type IntelligenceEvent,
  type WiringResult,
} from 'nestjs-intelligence';

@IntelligenceNode({ name: 'typed-node', kind: 'effect', version: '1.0.0' })
@Injectable()
export class TypedNode {
  @IntelligenceHandler('onex.evt.app.thing-happened.v1', { eventType: 'thing-happened' })
  async handle(event: IntelligenceEvent<{ id: string }>, ctx: DispatchContext): Promise<void> {
    await ctx.publish('onex.evt.app.thing-seen.v1', { id: event.payload.id });
  }
}

@Module({
  imports: [
    IntelligenceModule.forRootAsync({
      useFactory: () => ({
        serviceName: 'typed-app',
        bus: { kind: 'kafka', brokers: ['127.0.0.1:9092'], sasl: { mechanism: 'plain', username: 'u', password: 'p' } },
        dispatch: { maxAttempts: 5, deadLetter: true },
      }),
      health: { path: 'status' },
    }),
  ],
  providers: [TypedNode],
})
export class TypedAppModule {}

export const paths: readonly string[] = INTELLIGENCE_REDACT_PATHS;
export const bus = new KafkaEventBus({ clientId: 'x', brokers: ['127.0.0.1:9092'] }, new LogSanitizer());
export const result: WiringResult | undefined = undefined;
`;

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2023',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    skipLibCheck: true,
    noEmit: true,
    types: [],
  },
  files: ['app.ts'],
};

/** Packs the library and installs it into a fresh Nest 12 app in a temporary folder. */
describe('the npm package', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'intelligence-package-'));
    const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', dir], {
      cwd: root,
    });
    const tarball = path.join(dir, stdout.trim().split('\n').at(-1) ?? '');
    const version = (name: string) => manifest.devDependencies[name] ?? 'latest';
    const dependencies = Object.fromEntries(
      [
        '@nestjs/common',
        '@nestjs/core',
        '@nestjs/platform-express',
        '@nestjs/terminus',
        'kafkajs',
        'reflect-metadata',
        'rxjs',
      ].map((name) => [name, version(name)]),
    );
    await writeFile(
      path.join(dir, 'package.json'),
      JSON.stringify({
        name: 'packaged-app',
        private: true,
        type: 'module',
        dependencies: { ...dependencies, 'nestjs-intelligence': `file:${tarball}` },
      }),
    );
    await writeFile(path.join(dir, 'main.mjs'), MAIN);
    await writeFile(path.join(dir, 'app.ts'), TYPED_USE);
    await writeFile(path.join(dir, 'tsconfig.json'), JSON.stringify(TSCONFIG));
    await run(
      'npm',
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--ignore-scripts',
        '--loglevel=error',
      ],
      {
        cwd: dir,
        maxBuffer: 16 * 1024 * 1024,
      },
    );
  }, 240_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('boots in a fresh Nest 12 app with IntelligenceModule.forRoot and answers /health', async () => {
    const { stdout } = await run('node', ['main.mjs'], { cwd: dir });
    const result = JSON.parse(stdout.trim()) as { status: number; body: unknown };
    expect(result).toMatchObject({
      status: 200,
      body: { status: 'ok', info: { intelligence: { status: 'up', state: 'wired' } } },
    });
  });

  it('ships complete type declarations: a typed app compiles against the entry alone', async () => {
    const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
    await expect(run('node', [tsc, '-p', 'tsconfig.json'], { cwd: dir })).resolves.toBeDefined();
  }, 60_000);

  it('contains the library and its migrations only: no service, tests or sources', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json'], { cwd: root });
    const [pack] = JSON.parse(stdout) as { files: { path: string }[] }[];
    const files = pack?.files.map((file) => file.path) ?? [];
    expect(files).toContain('dist/intelligence/index.d.ts');
    expect(files).toContain('dist/intelligence/database/db-migrate.cli.js');
    expect(files).toContain('dist/intelligence/delivery/dlq.cli.js');
    expect(files.filter((file) => file.startsWith('migrations/')).length).toBeGreaterThan(0);
    expect(
      files.filter(
        (file) =>
          !/^(dist\/intelligence\/|migrations\/[^/]+\.sql$|package\.json$|README\.md$)/.test(file),
      ),
    ).toEqual([]);
  }, 120_000);
});
