// A throwaway PostgreSQL for the tests: Debian's postgresql binaries, a cluster initdb'd into a temp
// dir and run as a non-root system user (postgres refuses to run as root), listening on 127.0.0.1
// and a unix socket in that dir, on a free port, stopped and deleted at the end.
//
// One cluster per test run: scripts/test.sh runs `node test/helpers/postgres.ts start` before tap
// (it prints SHOWCASE_TEST_PG_URL and SHOWCASE_TEST_PG_DIR to export) and `… stop <dir>` after.
// A test file run by hand, with SHOWCASE_TEST_PG_URL unset, starts its own cluster (pgCluster()).
// Each test gets a database of its own (freshDatabase: CREATE DATABASE, dropped at teardown).
//
// Only node: builtins and pg are imported, with erasable TypeScript only, so Node runs this file
// directly as a script (type stripping) as well as under tap.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { freePort } from './free-port.js';

/** The system user the test clusters run as when the tests run as root. */
export const PG_USER = 'showcase-pg';

export interface PgCluster {
  /** postgres://showcase@127.0.0.1:<port>/postgres (trust auth, loopback only). */
  url: string;
  dir: string;
  stop(): Promise<void>;
  /** Stops the server (fast shutdown: sessions cut), keeping its data: a PostgreSQL outage. */
  pause(): Promise<void>;
  /** Starts it again on the same port and data (after pause); resolves once it accepts connections. */
  resume(): Promise<void>;
}

/** Where Debian keeps the server binaries (newest major first), or undefined when not installed. */
export function pgBinDir(): string | undefined {
  for (const v of ['17', '16', '15', '14', '13']) {
    const d = `/usr/lib/postgresql/${v}/bin`;
    if (existsSync(join(d, 'initdb')) && existsSync(join(d, 'pg_ctl'))) return d;
  }
  return undefined;
}


const isRoot = (): boolean => process.getuid?.() === 0;

/** Creates the non-root system user the cluster runs as, if missing (root only). */
function ensureUser(): void {
  if (spawnSync('id', ['-u', PG_USER], { stdio: 'ignore' }).status === 0) return;
  execFileSync('useradd', ['--system', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', PG_USER], { stdio: 'pipe' });
}

/** Runs a PostgreSQL binary as the cluster's user (runuser when root, else as ourselves). */
function runAs(bin: string, args: string[]): void {
  const [cmd, argv] = isRoot() ? ['runuser', ['-u', PG_USER, '--', bin, ...args]] : [bin, args];
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout || '').slice(-2000)}`);
}

/** initdb + start a new cluster; resolves once it accepts connections. */
export async function startPgCluster(): Promise<PgCluster> {
  const bin = pgBinDir();
  if (!bin) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: run scripts/setup.sh (installs Debian\'s postgresql)');
  const dir = mkdtempSync(join(tmpdir(), 'showcase-pg-'));
  const data = join(dir, 'data');
  if (isRoot()) {
    ensureUser();
    const uid = Number(execFileSync('id', ['-u', PG_USER], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', PG_USER], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const port = await freePort();
  runAs(join(bin, 'initdb'), ['-D', data, '-U', 'showcase', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync']);
  // Durability off: a test cluster is thrown away, and fsyncs on a shared 2-core machine are slow.
  const opts = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
  const start = (): void => runAs(join(bin, 'pg_ctl'), ['-D', data, '-o', opts, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start']);
  start();
  const url = `postgres://showcase@127.0.0.1:${port}/postgres`;
  return {
    url, dir, stop: () => stopPgCluster(dir),
    pause: async () => runAs(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', '-t', '30', 'stop']),
    resume: async () => start(),
  };
}

/** Stops a cluster started by startPgCluster and deletes its directory. */
export async function stopPgCluster(dir: string): Promise<void> {
  const bin = pgBinDir();
  const data = join(dir, 'data');
  if (bin && existsSync(join(data, 'postmaster.pid'))) {
    try {
      runAs(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', '-t', '30', 'stop']);
    } catch {
      runAs(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']);
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

/** The URL of a database on the same server as url. */
export function databaseUrl(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

/**
 * The run's shared cluster (SHOWCASE_TEST_PG_URL from scripts/test.sh), or one started for this
 * file and stopped at its teardown. Resolves to the server's maintenance-database URL.
 */
export async function pgCluster(t: Teardown): Promise<string> {
  const shared = process.env.SHOWCASE_TEST_PG_URL;
  if (shared) return shared;
  const c = await startPgCluster();
  t.teardown(() => c.stop());
  return c.url;
}

/** A new empty database on the cluster at url, dropped at t's teardown; resolves to its URL. */
export async function freshDatabase(t: Teardown, url: string): Promise<string> {
  const name = `showcase_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  t.teardown(async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await c.end();
    }
  });
  return databaseUrl(url, name);
}

// CLI for scripts/test.sh: `start` prints the variables to export; `stop <dir>` stops that cluster.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [cmd, arg] = process.argv.slice(2);
  if (cmd === 'start') {
    const c = await startPgCluster();
    process.stdout.write(`SHOWCASE_TEST_PG_URL=${c.url}\nSHOWCASE_TEST_PG_DIR=${c.dir}\n`);
  } else if (cmd === 'stop' && arg) {
    await stopPgCluster(arg);
  } else {
    process.stderr.write('usage: node test/helpers/postgres.ts start | stop <dir>\n');
    process.exit(2);
  }
}
