// certkeep on real terminals and under real signals (issue 11, items 1 and 9):
// progress never depends on the terminal's width, and Ctrl-C or SIGTERM in the
// middle of an order removes the challenge records that run placed, keeps the
// order, says how to finish it, and exits 130 / 143.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dig } from '../dns/dig.ts';
import { startSilentServer } from '../dns/silent-server.ts';
import { ordersOf, type Rig, runCli, startRig, ZONE } from './harness.ts';
import { runOnTerminal, type TerminalRun } from './terminal.ts';

// Liveness bounds, not timings: a hung command fails the test instead of hanging it.
const HANG_LIMIT_MS = 120_000;

describe('certkeep on a terminal', () => {
  let rig: Rig;
  let silent: Awaited<ReturnType<typeof startSilentServer>>;
  let env: Record<string, string>;
  after(async () => {
    await silent?.stop();
    await rig?.stop();
  });
  before(async () => {
    rig = await startRig();
    silent = await startSilentServer();
    env = { CERTKEEP_DATA_DIR: rig.dataDir, CERTKEEP_CA: rig.pebble.directoryUrl, CERTKEEP_CA_CERT: rig.pebble.caCertFile };
    // DNS-01 records go to BIND, but propagation is checked on a server that never answers:
    // the run stays in its DNS wait, with its TXT record in the zone, until it is stopped.
    const added = await addZone(silent.address);
    assert.equal(added.code, 0, added.stderr);
  });

  function addZone(nameserver: string) {
    const tsig = rig.bind.tsig;
    return runCli(
      ['zone', 'add', ZONE, '--provider', 'rfc2136', '--server', rig.bind.address, '--tsig-key', tsig.name, '--tsig-secret', tsig.secret, '--tsig-algorithm', tsig.algorithm, '--nameserver', nameserver],
      env,
    );
  }

  async function finished(run: TerminalRun): Promise<number | null> {
    const timer = setTimeout(run.kill, HANG_LIMIT_MS);
    try {
      return await run.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  async function untilTxtServed(name: string): Promise<string[]> {
    for (;;) {
      const values = await dig(rig.bind.address, `_acme-challenge.${name}`, 'TXT');
      if (values.length > 0) return values;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  test('a terminal that reports 0 columns: issue prints its progress as lines and ends', async () => {
    const name = `narrow.${ZONE}`;
    const run = await runOnTerminal(['issue', '-d', name, '--http-port', String(rig.httpPort)], env, 0);
    const code = await finished(run);
    const screen = run.screen();
    assert.equal(code, 0, screen);
    assert.ok(screen.length < 10_000, `the terminal got ${screen.length} bytes`);
    assert.ok(!screen.includes('\u001b['), 'no cursor movement or line erasing, which needs a width');
    assert.match(screen, /… placing an order/);
    assert.match(screen, new RegExp(`✔ issued ${name.replaceAll('.', '\\.')}`));
    assert.equal(ordersOf(rig.dataDir, name).at(-1)?.step, 'valid');
  });

  test('Ctrl-C during DNS-01: the TXT record is removed, the order is kept, one line says how to resume, exit 130', async () => {
    const name = `ctrl-c.${ZONE}`;
    const run = await runOnTerminal(['issue', '-d', name, '--challenge', 'dns-01', '--resolver', rig.bind.address], env, 0);
    await untilTxtServed(name);
    run.type('\u0003');
    const code = await finished(run);
    const screen = run.screen();
    assert.equal(code, 130, screen);
    // The terminal echoes the keystroke as ^C before certkeep's line.
    const stopped = screen.split(/\r?\n/).map((line) => line.replace(/^\^C/, '')).filter((line) => line.startsWith('certkeep: '));
    assert.equal(stopped.length, 1, screen);
    assert.match(stopped[0], new RegExp(`stopped by SIGINT: the order for ${name.replaceAll('.', '\\.')} is kept at step "placed".*certkeep resume`));
    assert.deepEqual(await dig(rig.bind.address, `_acme-challenge.${name}`, 'TXT'), [], 'the TXT record this run placed is gone');
    const [order] = ordersOf(rig.dataDir, name);
    assert.equal(order.step, 'placed', 'the order is kept at its step, not failed');
  });

  test('SIGTERM during resume does the same (exit 143); once the DNS answers, resume finishes that same order', async () => {
    const name = `ctrl-c.${ZONE}`;
    const placed = ordersOf(rig.dataDir, name)[0].order_url;
    const run = await runOnTerminal(['resume', '--resolver', rig.bind.address], env, 80);
    await untilTxtServed(name);
    process.kill(await run.pid(), 'SIGTERM');
    const code = await finished(run);
    assert.equal(code, 143, run.screen());
    assert.match(run.screen(), /stopped by SIGTERM: the order for ctrl-c\.example\.test is kept/);
    assert.deepEqual(await dig(rig.bind.address, `_acme-challenge.${name}`, 'TXT'), []);

    const readded = await runCli(['zone', 'remove', ZONE], env);
    assert.equal(readded.code, 0, readded.stderr);
    assert.equal((await addZone(rig.bind.address)).code, 0);
    const resumed = await runCli(['resume', '--resolver', rig.bind.address, '--json'], env);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual(resumed.json().results.map((r: { status: string }) => r.status), ['resumed']);
    const orders = ordersOf(rig.dataDir, name);
    assert.deepEqual(orders.map((o) => [o.order_url, o.step]), [[placed, 'valid']], 'the one order, finished');
    assert.deepEqual(await dig(rig.bind.address, `_acme-challenge.${name}`, 'TXT'), []);
  });
});
