/**
 * A throwaway PostgreSQL cluster for tests: `initdb` once per machine into a cached template (the
 * slow part, ~5 s), then per test file a copy of it in a temporary folder, started with `pg_ctl`
 * on 127.0.0.1 at a free port (and its Unix socket in that folder), stopped and deleted at the end.
 *
 * PostgreSQL refuses to run as root: as root (CI) the binaries run as `nobody` through `runuser`,
 * in folders owned by `nobody`. Without the binaries `PG_SKIP` says why, and the tests skip.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** The newest `/usr/lib/postgresql/<v>/bin` holding initdb (or `$PG_BIN`). */
function findBin(): string | undefined {
  if (process.env.PG_BIN) return existsSync(join(process.env.PG_BIN, 'initdb')) ? process.env.PG_BIN : undefined;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : undefined;
}

const BIN = findBin();
const AS_ROOT = process.getuid?.() === 0;

function nobodyIds(): { uid: number; gid: number } | undefined {
  if (!AS_ROOT) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

/** Why the PostgreSQL tests cannot run here, or false. */
export const PG_SKIP: string | false = BIN
  ? AS_ROOT && spawnSync('runuser', ['--help']).error
    ? 'running as root without runuser: PostgreSQL refuses to run as root (run the tests as a normal user)'
    : false
  : 'PostgreSQL binaries not found (install Debian\'s "postgresql" package, or set PG_BIN to the folder holding initdb)';

const NOBODY = nobodyIds();

/** Runs a PostgreSQL binary as the cluster's user; throws with its output on failure. */
function pgRun(tool: string, args: string[], timeoutMs = 60_000): string {
  const cmd = join(BIN!, tool);
  const r = AS_ROOT
    ? spawnSync('runuser', ['-u', 'nobody', '--', cmd, ...args], { encoding: 'utf8', timeout: timeoutMs })
    : spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs });
  if (r.status !== 0)
    throw new Error(`${tool} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

function own(path: string): void {
  if (NOBODY) chownSync(path, NOBODY.uid, NOBODY.gid);
}

/** The initdb'd template, made once per machine (atomically: made aside, then renamed into place). */
function template(): string {
  const version = BIN!.split('/').at(-2) ?? 'x';
  const dir = join(tmpdir(), `autopeft-pg-template-${version}-${NOBODY ? 'nobody' : (process.getuid?.() ?? 0)}`);
  if (existsSync(join(dir, 'PG_VERSION'))) return dir;
  const work = mkdtempSync(join(tmpdir(), 'autopeft-pg-init-'));
  own(work);
  pgRun('initdb', [
    '-D',
    join(work, 'data'),
    '-U',
    'autopeft',
    '--auth=trust',
    '--no-sync',
    '-E',
    'UTF8',
    '--no-locale',
  ]);
  try {
    renameSync(join(work, 'data'), dir);
  } catch {
    // Another test process made it first.
  }
  rmSync(work, { recursive: true, force: true });
  return dir;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface PgCluster {
  /** `postgres://autopeft@127.0.0.1:<port>/postgres` */
  readonly url: string;
  readonly port: number;
  /** A new empty database's URL. */
  database(name: string): Promise<string>;
  /** Stops the server (fast shutdown: connections are cut, as in a restart). */
  stop(): void;
  /** Starts it again on the same port. */
  start(): void;
  /** Stops it (if running) and deletes its files. */
  destroy(): void;
}

/** Starts a throwaway cluster; call `destroy()` at the end (it is also stopped if the process exits). */
export async function startCluster(): Promise<PgCluster> {
  if (PG_SKIP) throw new Error(PG_SKIP);
  const tpl = template();
  const dir = mkdtempSync(join(tmpdir(), 'autopeft-pg-'));
  own(dir);
  const data = join(dir, 'data');
  // cp -a as the cluster's user keeps the 0700 data folder PostgreSQL insists on.
  const cp = AS_ROOT
    ? spawnSync('runuser', ['-u', 'nobody', '--', 'cp', '-a', tpl, data])
    : spawnSync('cp', ['-a', tpl, data]);
  if (cp.status !== 0) throw new Error(`copying the PostgreSQL template failed: ${cp.stderr}`);
  const port = await freePort();
  const log = join(dir, 'server.log');
  // NOTE: fsync off: a test cluster never needs to survive an OS crash, and it is 10x faster on CI disks.
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -F -c max_connections=200 -c shared_buffers=16MB`;
  let running = false;
  const start = () => {
    pgRun('pg_ctl', ['-D', data, '-l', log, '-w', '-t', '60', '-o', opts, 'start']);
    running = true;
  };
  const stop = () => {
    if (!running) return;
    pgRun('pg_ctl', ['-D', data, '-w', '-m', 'fast', 'stop']);
    running = false;
  };
  // A test process that dies without destroy() must not leave a server behind.
  const onExit = () => {
    try {
      const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      if (pid > 0) process.kill(pid, 'SIGQUIT');
    } catch {
      // not running
    }
  };
  process.on('exit', onExit);
  start();
  const url = `postgres://autopeft@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    async database(name: string) {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE "${name}"`);
      } finally {
        await c.end();
      }
      return `postgres://autopeft@127.0.0.1:${port}/${name}`;
    },
    stop,
    start,
    destroy() {
      try {
        stop();
      } catch {
        onExit();
      }
      process.off('exit', onExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
