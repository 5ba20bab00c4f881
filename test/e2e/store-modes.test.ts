// A missing, mistyped or lost store is an error, never a fresh empty one
// (issue 11, items 4 and 5): only the commands that create things may create a
// data dir or a database; the others name what is missing and how to fix it.
import assert from 'node:assert/strict';
import { access, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startPostgres, type PostgresServer } from '../rig/postgres.ts';
import { tempDir } from '../rig/tmp.ts';
import { oneLine, runCli } from './harness.ts';

// Liveness bound for the commands that used to spin for ever, not a timing.
const HANG_LIMIT = { timeout: 60_000 };
const READERS: string[][] = [
  ['list'],
  ['show', 'a.example.test'],
  ['export', 'a.example.test', '--out', '/tmp/certkeep-never-written'],
  ['revoke', 'a.example.test'],
  ['renew', '--all'],
  ['resume'],
  ['zone', 'list'],
  ['admin', 'subscription', 'list'],
];
const CREATE = ['zone', 'add', 'example.test', '--provider', 'exec', '--command', '/bin/true'];

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

describe('the embedded store', () => {
  let data: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    data = await tempDir('certkeep-modes-');
  });
  after(() => data?.remove());

  test('a mistyped --data-dir: every reading command says so, exit 1, and creates nothing', async () => {
    const typo = join(data.path, 'certkeep-dta');
    for (const args of READERS) {
      const result = await runCli(['--data-dir', typo, ...args], {});
      assert.equal(result.code, 1, `${args.join(' ')}: ${result.stderr}`);
      const line = oneLine(result.stderr);
      assert.match(line, new RegExp(`no data directory ${typo}.*check --data-dir / CERTKEEP_DATA_DIR.*certkeep issue`), args.join(' '));
    }
    assert.equal(await exists(typo), false, 'the mistyped directory was not created');
  });

  test('a data dir without a database: renew --all does not report success over nothing', async () => {
    const empty = join(data.path, 'empty');
    assert.equal((await runCli(['--data-dir', data.path, '--json', 'list'], {})).code, 1);
    await runCli(['--data-dir', empty, ...CREATE], {}).then((r) => assert.equal(r.code, 0, r.stderr));
    await rm(join(empty, 'certkeep.db'));
    const renew = await runCli(['--data-dir', empty, 'renew', '--all'], {});
    assert.equal(renew.code, 1);
    assert.match(oneLine(renew.stderr), /there is no certkeep database .*empty\/certkeep\.db/);
  });

  test('/proc/x as the data dir: one line and exit 1, for readers and creators alike', HANG_LIMIT, async () => {
    const list = await runCli(['--data-dir', '/proc/x', 'list'], {});
    assert.equal(list.code, 1);
    assert.match(oneLine(list.stderr), /no data directory \/proc\/x/);
    const add = await runCli(['--data-dir', '/proc/x', ...CREATE], {});
    assert.equal(add.code, 1);
    assert.match(oneLine(add.stderr), /cannot create the data directory \/proc\/x: ENOENT/);
  });

  test('a command that creates things creates the store; then the readers work', async () => {
    const fresh = join(data.path, 'fresh', 'nested');
    const added = await runCli(['--data-dir', fresh, ...CREATE], {});
    assert.equal(added.code, 0, added.stderr);
    const list = await runCli(['--data-dir', fresh, '--json', 'list'], {});
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(list.json(), { certificates: [] });
    assert.equal((await stat(join(fresh, 'master.key'))).mode & 0o777, 0o600);
  });

  test('a certkeep.db emptied to 0 bytes is an error for every command, and stays as it was', async () => {
    const dir = join(data.path, 'truncated');
    assert.equal((await runCli(['--data-dir', dir, ...CREATE], {})).code, 0);
    await truncate(join(dir, 'certkeep.db'), 0);
    for (const args of [['list'], ['renew', '--all'], CREATE]) {
      const result = await runCli(['--data-dir', dir, ...args], {});
      assert.equal(result.code, 1, `${args.join(' ')}: ${result.stderr}`);
      assert.match(oneLine(result.stderr), /the database .*truncated\/certkeep\.db is empty \(0 bytes\).*backup/);
    }
    assert.equal((await stat(join(dir, 'certkeep.db'))).size, 0, 'not re-initialised');
  });

  test('master.key gone beside an existing database: named as missing, never replaced', async () => {
    const dir = join(data.path, 'keyless');
    assert.equal((await runCli(['--data-dir', dir, ...CREATE], {})).code, 0);
    const key = join(dir, 'master.key');
    await rm(key);
    for (const args of [['list'], CREATE]) {
      const result = await runCli(['--data-dir', dir, ...args], {});
      assert.equal(result.code, 1, `${args.join(' ')}: ${result.stderr}`);
      assert.match(oneLine(result.stderr), new RegExp(`the master key file ${key} is missing, but .*certkeep\\.db exists.*restore master\\.key`));
    }
    assert.equal(await exists(key), false, 'no new key was made');
  });
});

describe('PostgreSQL (CERTKEEP_DATABASE_URL)', () => {
  let server: PostgresServer;
  let data: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    server = await startPostgres();
    data = await tempDir('certkeep-modes-pg-');
  });
  after(async () => {
    await server?.stop();
    await data?.remove();
  });

  test('an empty database is reported to readers, created by creators; its key file is never replaced', async () => {
    const env = { CERTKEEP_DATABASE_URL: await server.createDatabase('modes'), CERTKEEP_DATA_DIR: join(data.path, 'keys') };
    for (const args of [['list'], ['renew', '--all']]) {
      const result = await runCli(args, env);
      assert.equal(result.code, 1, `${args.join(' ')}: ${result.stderr}`);
      assert.match(oneLine(result.stderr), /the PostgreSQL database modes at 127\.0\.0\.1:\d+ holds no certkeep tables; check CERTKEEP_DATABASE_URL, or create a store first with certkeep issue/);
    }
    assert.equal(await exists(env.CERTKEEP_DATA_DIR), false, 'a reader made no key file either');
    const created = await runCli(['admin', 'subscription', 'create', 'first'], env);
    assert.equal(created.code, 0, created.stderr);
    assert.equal((await runCli(['list'], env)).code, 0);

    await rm(join(env.CERTKEEP_DATA_DIR, 'master.key'));
    const keyless = await runCli(['list'], env);
    assert.equal(keyless.code, 1);
    assert.match(oneLine(keyless.stderr), /master\.key is missing, but the PostgreSQL database modes .* exists/);
    assert.equal(await exists(join(env.CERTKEEP_DATA_DIR, 'master.key')), false);
  });
});
