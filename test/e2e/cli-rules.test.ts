// What a certbot user expects of the CLI (issue 11, items 6, 7, 8, 10 and 11):
// revoked or expired means due, concurrent runs place one order, names are
// found whatever their case or trailing dot, help and --version, and renew made
// for timers. Against Pebble with real HTTP-01, answered by nginx from a webroot
// so that several processes can answer at once.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import { startPostgres, type PostgresServer } from '../rig/postgres.ts';
import { tempDir } from '../rig/tmp.ts';
import { startSilentServer } from '../dns/silent-server.ts';
import { oneLine, ordersOf, type Rig, runCli, startWebrootRig, ZONE } from './harness.ts';

const CLI = new URL('../../src/main.ts', import.meta.url).pathname;
// Liveness bound for the waits below, not a timing.
const HANG_LIMIT_MS = 60_000;

/** A CLI run left going while the test looks at it. */
function startCli(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<{ code: number | null }>((resolve) => child.on('close', (code) => resolve({ code })));
  return { child, output: () => output, exited };
}

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + HANG_LIMIT_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('the condition never came true');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('certkeep as a certbot user expects it', () => {
  let rig: Rig;
  let webroot: string;
  let stop: (() => Promise<void>) | undefined;
  let postgres: PostgresServer | undefined;
  after(async () => {
    await postgres?.stop();
    await stop?.();
  });
  before(async () => {
    ({ rig, webroot, stop } = await startWebrootRig());
  });

  const issue = (name: string, ...more: string[]) => rig.certkeep(['issue', '-d', name, '--webroot', webroot, ...more]);

  test('a revoked certificate is issued again without --force', async () => {
    const name = `revoked.${ZONE}`;
    assert.equal((await issue(name)).code, 0);
    assert.equal((await rig.certkeep(['revoke', name])).code, 0);
    const again = await issue(name, '--json');
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.json().status, 'renewed');
    assert.equal((await rig.certkeep(['show', name, '--json'])).json().state, 'valid');
  });

  test('an expired certificate is due, whatever its renewal date says', async () => {
    const name = `expired.${ZONE}`;
    assert.equal((await issue(name)).code, 0);
    const db = new DatabaseSync(join(rig.dataDir, 'certkeep.db'));
    try {
      const past = Date.now() - 86_400_000;
      db.prepare('UPDATE certificate_versions SET not_after = ? WHERE certificate_id = (SELECT id FROM certificates WHERE name = ?)').run(past, name);
      db.prepare('UPDATE certificates SET next_renewal_at = ? WHERE name = ?').run(Date.now() + 30 * 86_400_000, name);
    } finally {
      db.close();
    }
    const again = await issue(name, '--json');
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.json().status, 'renewed');
  });

  test('names are one form everywhere: lower case, no trailing dot', async () => {
    const issued = await issue('Mixed.Example.TEST.', '--json');
    assert.equal(issued.code, 0, issued.stderr);
    assert.equal(issued.json().name, 'mixed.example.test');
    const shown = await rig.certkeep(['show', 'Mixed.Example.TEST.', '--json']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal(shown.json().name, 'mixed.example.test');
    const out = join(rig.dataDir, 'out-mixed');
    assert.equal((await rig.certkeep(['export', 'MIXED.example.test', '--out', out])).code, 0);
    const renewed = await rig.certkeep(['renew', 'mixed.EXAMPLE.test.', '--json']);
    assert.equal(renewed.code, 0, renewed.stderr);
    assert.deepEqual(renewed.json().results.map((r: { name: string; status: string }) => [r.name, r.status]), [['mixed.example.test', 'unchanged']]);
    const named = await issue(`named.${ZONE}`, '--name', 'My-Cert', '--json');
    assert.equal(named.json().name, 'my-cert');
    assert.equal((await rig.certkeep(['show', 'MY-CERT'])).code, 0);
  });

  /** Three `issue` runs for one new name, started together: however they interleave, one order. */
  async function raceForNewName(name: string, env: Record<string, string> = {}): Promise<void> {
    // Orders Pebble created (a request count would also count a newOrder retried after a bad nonce).
    const before = (await rig.pebble.created()).orders;
    const runs = await Promise.all([1, 2, 3].map(() => rig.certkeep(['issue', '-d', name, '--webroot', webroot, '--json'], { env })));
    for (const result of runs) {
      assert.equal(result.code, 0, result.stderr);
      assert.doesNotMatch(result.stderr, /UNIQUE|duplicate key/);
    }
    assert.equal((await rig.pebble.created()).orders - before, 1, 'one order');
  }

  test('three issue runs at once for one new name place one order, on SQLite', async () => {
    const name = `race.${ZONE}`;
    await raceForNewName(name);
    assert.deepEqual(ordersOf(rig.dataDir, name).map((o) => o.step), ['valid']);
  });

  test('three issue runs at once for one new name place one order, on PostgreSQL', async () => {
    postgres = await startPostgres();
    const keys = await tempDir();
    try {
      await raceForNewName(`race-pg.${ZONE}`, { CERTKEEP_DATABASE_URL: await postgres.createDatabase('race'), CERTKEEP_DATA_DIR: keys.path });
    } finally {
      await keys.remove();
    }
  });

  test('while one run holds its order, issue --force runs wait for it instead of placing their own', async () => {
    // DNS-01 whose propagation check asks a server that never answers: the first
    // run holds its open order (and its lease) until it is stopped.
    const silent = await startSilentServer();
    const data = await tempDir();
    const held: ChildProcess[] = [];
    try {
      const env = { ...rigEnv(), CERTKEEP_DATA_DIR: data.path };
      const tsig = rig.bind.tsig;
      const zone = ['zone', 'add', ZONE, '--provider', 'rfc2136', '--server', rig.bind.address, '--tsig-key', tsig.name, '--tsig-secret', tsig.secret, '--tsig-algorithm', tsig.algorithm, '--nameserver', silent.address];
      assert.equal((await runCli(zone, env)).code, 0);
      const name = `held.${ZONE}`;
      const args = ['issue', '-d', name, '--challenge', 'dns-01', '--resolver', rig.bind.address];
      const before = (await rig.pebble.created()).orders;
      const first = startCli(args, env);
      held.push(first.child);
      await until(() => ordersOf(data.path, name).length === 1);
      const waiting = [startCli([...args, '--force'], env), startCli([...args, '--force'], env)];
      held.push(...waiting.map((w) => w.child));
      for (const run of waiting) await until(() => /another certkeep process is (issuing|working)|being worked on by another certkeep process/.test(run.output()));
      assert.equal((await rig.pebble.created()).orders - before, 1, 'the waiting runs placed no order');
      for (const run of [first, ...waiting]) run.child.kill('SIGTERM');
      for (const run of [first, ...waiting]) assert.equal((await run.exited).code, 143, run.output());
      assert.equal(ordersOf(data.path, name).length, 1);
      assert.equal((await rig.pebble.created()).orders - before, 1);
    } finally {
      for (const child of held) child.kill('SIGKILL');
      await silent.stop();
      await data.remove();
    }
  });

  function rigEnv(): Record<string, string> {
    return { CERTKEEP_CA: rig.pebble.directoryUrl, CERTKEEP_CA_CERT: rig.pebble.caCertFile };
  }

  test('renew --all --quiet prints nothing when nothing failed; a failure is printed and exits 1', async () => {
    const quiet = await rig.certkeep(['renew', '--all', '--quiet']);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(quiet.stdout, '');
    assert.equal(quiet.stderr, '');
    const failed = await rig.certkeep(['renew', `missing.${ZONE}`, '--quiet']);
    assert.equal(failed.code, 1);
    assert.match(failed.stdout, /✖ missing\.example\.test: failed — no certificate named/);
    assert.match(failed.stdout, /1 checked: 0 renewed, 0 not due, 1 failed/);
  });

  test('renew --json is {"results":[…]} for none, one and many certificates', async () => {
    const data = await tempDir();
    try {
      const created = await rig.certkeep(['zone', 'add', ZONE, '--provider', 'exec', '--command', '/bin/true'], { dataDir: data.path });
      assert.equal(created.code, 0, created.stderr);
      const none = await rig.certkeep(['renew', '--all', '--json'], { dataDir: data.path });
      assert.deepEqual(none.json(), { results: [] });
      assert.equal((await rig.certkeep(['issue', '-d', `single.${ZONE}`, '--webroot', webroot], { dataDir: data.path })).code, 0);
      const one = await rig.certkeep(['renew', '--all', '--json'], { dataDir: data.path });
      assert.deepEqual(Object.keys(one.json()), ['results']);
      assert.deepEqual(one.json().results.map((r: { name: string; status: string }) => [r.name, r.status]), [[`single.${ZONE}`, 'unchanged']]);
      const many = await rig.certkeep(['renew', '--all', '--json']);
      assert.ok(many.json().results.length > 1);
    } finally {
      await data.remove();
    }
  });

  test('no --email: one line on stderr says the CA cannot reach you; with --email, none', async () => {
    const data = await tempDir();
    try {
      const without = await rig.certkeep(['issue', '-d', `noemail.${ZONE}`, '--webroot', webroot], { dataDir: data.path });
      assert.equal(without.code, 0, without.stderr);
      assert.deepEqual(without.stderr.trim().split('\n'), [
        'note: no --email given, so the CA cannot reach you about problems with your certificates (give --email ADDR or CERTKEEP_EMAIL)',
      ]);
      const withEmail = await rig.certkeep(['issue', '-d', `email.${ZONE}`, '--webroot', webroot, '--email', 'ops@example.test'], { dataDir: data.path });
      assert.equal(withEmail.code, 0, withEmail.stderr);
      assert.equal(withEmail.stderr, '');
    } finally {
      await data.remove();
    }
  });
});

describe('help and version', () => {
  for (const [args, usage] of [
    [[], 'Usage: certkeep [options] [command]'],
    [['zone'], 'Usage: certkeep zone [options] [command]'],
    [['admin'], 'Usage: certkeep admin [options] [command]'],
    [['admin', 'apikey'], 'Usage: certkeep admin apikey [options] [command]'],
  ] as const) {
    test(`certkeep ${args.join(' ') || '(no command)'} prints its help on stderr and exits 2`, async () => {
      const result = await runCli([...args], {});
      assert.equal(result.code, 2);
      assert.ok(result.stderr.startsWith(usage), result.stderr);
      assert.equal(result.stdout, '');
    });
  }

  test('--version prints the version; a mistyped command is one line', async () => {
    const version = await runCli(['--version'], {});
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
    const typo = await runCli(['lsit'], {});
    assert.equal(typo.code, 2);
    assert.match(oneLine(typo.stderr), /unknown command 'lsit' \(Did you mean list\?\)/);
  });
});
