// Bad input and a hostile environment: exit 1 or 2, one clear line, nothing stored.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../../src/rig/ports.ts';
import { oneLine, type Rig, startRig, ZONE } from './harness.ts';

describe('certkeep issue refuses bad input and survives a hostile environment', () => {
  let rig: Rig;
  after(() => rig?.stop());
  before(async () => {
    rig = await startRig();
  });

  async function assertNothingStored(): Promise<void> {
    const list = await rig.certkeep(['list', '--json']);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(list.json().certificates, []);
  }

  test('an invalid name → exit 2 naming the name', async () => {
    const result = await rig.certkeep(['issue', '-d', 'bad_name!.example.test', '--http-port', String(rig.httpPort)]);
    assert.equal(result.code, 2);
    assert.match(oneLine(result.stderr), /bad_name!\.example\.test/);
    await assertNothingStored();
  });

  test('a wildcard with http-01 → exit 2 saying dns-01', async () => {
    const result = await rig.certkeep(['issue', '-d', `*.${ZONE}`, '--http-port', String(rig.httpPort)]);
    assert.equal(result.code, 2);
    assert.match(oneLine(result.stderr), /dns-01/);
    await assertNothingStored();
  });

  test('an unknown key type → exit 2 listing the key types', async () => {
    const result = await rig.certkeep(['issue', '-d', `k.${ZONE}`, '--key-type', 'dsa-1024', '--http-port', String(rig.httpPort)]);
    assert.equal(result.code, 2);
    assert.match(oneLine(result.stderr), /--key-type.*ec-p256/);
    await assertNothingStored();
  });

  test('no -d at all → exit 2', async () => {
    const result = await rig.certkeep(['issue', '--http-port', String(rig.httpPort)]);
    assert.equal(result.code, 2);
    assert.match(oneLine(result.stderr), /-d/);
  });

  test('an unknown command → exit 2', async () => {
    const result = await rig.certkeep(['issu']);
    assert.equal(result.code, 2);
  });

  test('the CA unreachable → exit 1 naming the URL', async () => {
    const closed = `https://127.0.0.1:${await freePort()}/dir`;
    const result = await rig.certkeep(['issue', '-d', `u.${ZONE}`, '--http-port', String(rig.httpPort), '--ca', closed]);
    assert.equal(result.code, 1);
    assert.match(oneLine(result.stderr), new RegExp(closed.replaceAll('.', '\\.')));
    await assertNothingStored();
  });

  test("the CA's certificate not trusted → exit 1 saying --ca-cert", async () => {
    const result = await rig.certkeep(['issue', '-d', `t.${ZONE}`, '--http-port', String(rig.httpPort)], { env: { CERTKEEP_CA_CERT: '' } });
    assert.equal(result.code, 1);
    assert.match(oneLine(result.stderr), /--ca-cert/);
    await assertNothingStored();
  });

  test('the HTTP-01 port in use → exit 1 saying which port', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(rig.httpPort, '0.0.0.0', resolve));
    try {
      const result = await rig.certkeep(['issue', '-d', `p.${ZONE}`, '--http-port', String(rig.httpPort)]);
      assert.equal(result.code, 1);
      assert.match(oneLine(result.stderr), new RegExp(`port ${rig.httpPort}.*in use`));
      await assertNothingStored();
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  test('a name Pebble cannot validate (no one answers) → exit 1 with the CA error, and the store keeps a failed record, not a half one', async () => {
    // Nothing listens on this port, so Pebble's validation connection is refused.
    const result = await rig.certkeep(['issue', '-d', `v.${ZONE}`, '--webroot', rig.dataDir]);
    assert.equal(result.code, 1);
    assert.match(oneLine(result.stderr), /v\.example\.test/);
    const show = await rig.certkeep(['show', `v.${ZONE}`, '--json']);
    assert.equal(show.json().state, 'failed');
    assert.equal(show.json().orders[0].step, 'invalid');
  });
});
