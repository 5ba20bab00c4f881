// A throwaway PostgreSQL 15 server (Debian's package) on 127.0.0.1 and a free
// port, for tests. Each call starts its own server in its own temp dir; stop()
// kills it (pg_ctl stop -m immediate) and removes the dir.
//
// PostgreSQL refuses to run as root, so when the tests run as root the server
// runs as the `postgres` system user (runuser). initdb takes a second or more,
// so its output is made once per machine into a template and copied per server.
import { execFile } from 'node:child_process';
import { access, chown, readFile, rename } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../../src/rig/ports.ts';
import { tempDir } from './tmp.ts';

const run = promisify(execFile);
const BIN = '/usr/lib/postgresql/15/bin';
const TEMPLATE = join(tmpdir(), `certkeep-pg15-template-${userInfo().uid}`);
const START_ATTEMPTS = 3;

// Speed over durability: the data lives as long as one test file.
const SERVER_OPTIONS = [
  '-c listen_addresses=127.0.0.1',
  '-c fsync=off',
  '-c synchronous_commit=off',
  '-c full_page_writes=off',
  '-c shared_buffers=16MB',
  '-c max_connections=100',
  '-c autovacuum=off',
];

export interface PostgresServer {
  /** postgres://postgres@127.0.0.1:PORT/certkeep — trust auth, no password. */
  url: string;
  /** A new empty database on this server; returns its URL. */
  createDatabase(name?: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startPostgres(): Promise<PostgresServer> {
  const dir = await tempDir('certkeep-pg-');
  try {
    await ownByServerUser(dir.path);
    const data = join(dir.path, 'data');
    await copyTemplate(data);
    const port = await startServer(data, dir.path);
    const base = `postgres://postgres@127.0.0.1:${port}`;
    let stopped = false;
    const server: PostgresServer = {
      url: `${base}/certkeep`,
      createDatabase: async (name = `db_${Math.random().toString(36).slice(2, 10)}`) => {
        if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`database name "${name}": use a-z, 0-9 and _`);
        await adminQuery(`${base}/postgres`, `create database ${name}`);
        return `${base}/${name}`;
      },
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await stopServer(data);
        await dir.remove();
      },
    };
    await server.createDatabase('certkeep');
    return server;
  } catch (error) {
    await stopServer(join(dir.path, 'data')); // no-op when it never started
    await dir.remove();
    throw error;
  }
}

async function stopServer(data: string): Promise<void> {
  await asServerUser(`${BIN}/pg_ctl`, ['stop', '-D', data, '-m', 'immediate', '-s']).catch(() => {});
}

async function startServer(data: string, dir: string): Promise<number> {
  const log = join(dir, 'server.log');
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const options = [...SERVER_OPTIONS, `-p ${port}`, `-k ${dir}`].join(' ');
    try {
      await asServerUser(`${BIN}/pg_ctl`, [
        'start',
        '-w',
        '-t',
        '30',
        '-s',
        '-D',
        data,
        '-l',
        log,
        '-o',
        options,
      ]);
      return port;
    } catch (error) {
      const text = await readFile(log, 'utf8').catch(() => '');
      // Another process took the port between freePort() and bind: try another.
      if (attempt < START_ATTEMPTS && /could not bind|address already in use/i.test(text)) continue;
      throw new Error(`PostgreSQL did not start: ${(error as Error).message}\n${text.slice(-2000)}`);
    }
  }
}

async function copyTemplate(data: string): Promise<void> {
  if (!(await exists(join(TEMPLATE, 'PG_VERSION')))) await buildTemplate();
  await run('cp', ['-a', TEMPLATE, data]);
}

// Built in a private dir and renamed into place, so a concurrent test process
// either sees a complete template or builds its own (and one rename wins).
async function buildTemplate(): Promise<void> {
  const build = await tempDir('certkeep-pg-initdb-');
  try {
    await ownByServerUser(build.path);
    const data = join(build.path, 'data');
    await asServerUser(`${BIN}/initdb`, [
      '-D',
      data,
      '-U',
      'postgres',
      '-A',
      'trust',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
    ]);
    await rename(data, TEMPLATE).catch((error) => {
      if (!['ENOTEMPTY', 'EEXIST'].includes(error.code)) throw error;
    });
  } finally {
    await build.remove();
  }
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

async function ownByServerUser(path: string): Promise<void> {
  if (!isRoot()) return;
  const { stdout } = await run('id', ['-u', 'postgres']);
  const { stdout: gid } = await run('id', ['-g', 'postgres']);
  await chown(path, Number(stdout.trim()), Number(gid.trim()));
}

function asServerUser(command: string, args: string[]) {
  return isRoot() ? run('runuser', ['-u', 'postgres', '--', command, ...args]) : run(command, args);
}

function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
