// TLS-ALPN-01 against Pebble's real validation: Pebble resolves the names
// through BIND (127.0.0.1) and connects to its tlsPort with ALPN acme-tls/1,
// where certkeep answers — the CLI's own responder, or the server's listener
// answering from the store.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../../src/rig/ports.ts';
import { oneLine, ordersOf, type Rig, startRig, ZONE } from './harness.ts';
import { openssl } from './openssl.ts';
import { eventually, type Server, settledOrder, startServer } from './server.ts';

/** A certificate's orders as plain objects (node:sqlite rows have no prototype). */
function stepsAndUrls(dataDir: string, name: string): { step: string; order_url: string | null }[] {
  return ordersOf(dataDir, name).map(({ step, order_url }) => ({ step, order_url }));
}

/** TLS-ALPN-01 answers left in the rig's store (read-only, beside the running servers). */
function storedAnswers(dataDir: string): number {
  const db = new DatabaseSync(join(dataDir, 'certkeep.db'), { readOnly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM tls_alpn_answers').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('TLS-ALPN-01 with the CLI', () => {
  let rig: Rig;
  let tlsPort: number;
  let rootsFile: string;
  before(async () => {
    tlsPort = await freePort();
    rig = await startRig({ pebble: { tlsPort } });
    rootsFile = join(rig.dataDir, 'pebble-roots.pem');
    await writeFile(rootsFile, await rig.pebble.rootsPem());
  });
  after(() => rig?.stop());

  test('issued through the responder on --tls-port; the chain verifies; a renewal answers on the stored port', async () => {
    const name = `alpn.${ZONE}`;
    const issued = await rig.certkeep(['issue', '-d', name, '-d', `www.${name}`, '--challenge', 'tls-alpn-01', '--tls-port', String(tlsPort), '--json']);
    assert.equal(issued.code, 0, issued.stderr);
    assert.equal(issued.json().status, 'issued');
    const out = join(rig.dataDir, 'out-alpn');
    assert.equal((await rig.certkeep(['export', name, '--out', out])).code, 0);
    const verify = await openssl(['verify', '-CAfile', rootsFile, '-untrusted', join(out, 'chain.pem'), join(out, 'cert.pem')]);
    assert.ok(verify.ok, verify.stderr);
    const show = (await rig.certkeep(['show', name, '--json'])).json();
    assert.equal(show.challenge, 'tls-alpn-01');

    const renewed = await rig.certkeep(['renew', name, '--force', '--json']);
    assert.equal(renewed.code, 0, renewed.stderr);
    assert.equal(renewed.json().results[0].status, 'renewed');
  });

  test('killed after the challenge was provisioned: issuing again completes that same order', async () => {
    const name = `alpn-crash.${ZONE}`;
    const args = ['issue', '-d', name, '--challenge', 'tls-alpn-01', '--tls-port', String(tlsPort), '--json'];
    const killed = await rig.certkeep(args, { env: { CERTKEEP_CRASH_AFTER_STEP: 'provisioned' } });
    assert.equal(killed.signal, 'SIGKILL', killed.stderr);
    const [killedOrder] = ordersOf(rig.dataDir, name);
    assert.equal(killedOrder.step, 'provisioned');
    const newOrders = rig.pebble.requestCount('/order-plz');
    const resumed = await rig.certkeep(args);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(resumed.json().status, 'resumed');
    assert.equal(rig.pebble.requestCount('/order-plz'), newOrders, 'no second newOrder');
    assert.deepEqual(stepsAndUrls(rig.dataDir, name), [{ step: 'valid', order_url: killedOrder.order_url }]);
  });

  test('an IP address, validated with its reverse name in the SNI (RFC 8738)', async () => {
    const issued = await rig.certkeep(['issue', '-d', '127.0.0.1', '--name', 'loopback-ip', '--challenge', 'tls-alpn-01', '--tls-port', String(tlsPort), '--json']);
    assert.equal(issued.code, 0, issued.stderr);
    const out = join(rig.dataDir, 'out-ip');
    assert.equal((await rig.certkeep(['export', 'loopback-ip', '--out', out])).code, 0);
    const text = await openssl(['x509', '-in', join(out, 'cert.pem'), '-noout', '-ext', 'subjectAltName']);
    assert.match(text.stdout, /IP Address:127\.0\.0\.1/);
  });

  test('a port the CA does not connect to: exit 1 with the CA error and where certkeep must answer; the order is stored invalid', async () => {
    const name = `wrong-port.${ZONE}`;
    const wrongPort = await freePort();
    const result = await rig.certkeep(['issue', '-d', name, '--challenge', 'tls-alpn-01', '--tls-port', String(wrongPort)]);
    assert.equal(result.code, 1);
    const line = oneLine(result.stderr);
    assert.match(line, new RegExp(`tls-alpn-01 challenge failed: .*${tlsPort}`), 'the CA says where it connected');
    assert.match(line, /port 443 .*--tls-port/, 'and certkeep says where it must answer');
    assert.deepEqual(ordersOf(rig.dataDir, name).map((o) => o.step), ['invalid']);
  });

  test('the port in use: exit 1 naming the port and --tls-port; nothing stored', async () => {
    const blocker = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, '0.0.0.0', resolve));
    try {
      const result = await rig.certkeep(['issue', '-d', `busy.${ZONE}`, '--challenge', 'tls-alpn-01', '--tls-port', String(port)]);
      assert.equal(result.code, 1);
      assert.match(oneLine(result.stderr), new RegExp(`TLS-ALPN-01: port ${port} .*in use.*--tls-port`));
      assert.equal((await rig.certkeep(['show', `busy.${ZONE}`])).code, 1, 'no certificate was stored');
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  test('options of another challenge type: exit 2 naming them', async () => {
    const tlsWithHttp = await rig.certkeep(['issue', '-d', `o.${ZONE}`, '--challenge', 'tls-alpn-01', '--http-port', '8080']);
    assert.equal(tlsWithHttp.code, 2);
    assert.match(oneLine(tlsWithHttp.stderr), /--http-port is for HTTP-01; TLS-ALPN-01 answers on --tls-port/);
    const httpWithTls = await rig.certkeep(['issue', '-d', `o.${ZONE}`, '--tls-port', '8443']);
    assert.equal(httpWithTls.code, 2);
    assert.match(oneLine(httpWithTls.stderr), /--tls-port is for --challenge tls-alpn-01/);
    const badPort = await rig.certkeep(['issue', '-d', `o.${ZONE}`, '--challenge', 'tls-alpn-01', '--tls-port', '70000']);
    assert.equal(badPort.code, 2);
    assert.match(oneLine(badPort.stderr), /--tls-port: "70000" is not a port number/);
  });
});

describe('TLS-ALPN-01 in the server: the listener answers from the store', () => {
  let rig: Rig;
  let tlsPort: number;
  let listening: Server;
  let working: Server;
  let tenant: { id: string; apiKey: string; readKey: string };

  before(async () => {
    tlsPort = await freePort();
    rig = await startRig({ pebble: { tlsPort } });
    // One instance listens for TLS-ALPN-01 and runs no orders; the other runs the orders
    // and has no listener: the answer reaches the CA only through the shared store.
    listening = await startServer(rig, { httpChallengeListen: 'off', args: ['--tls-alpn-listen', `127.0.0.1:${tlsPort}`, '--workers', '0'] });
    working = await startServer(rig, { httpChallengeListen: 'off', args: ['--workers', '2'] });
    tenant = await listening.subscription('alpn tenant');
  });
  after(async () => {
    const codes = [await listening?.stop(), await working?.stop()];
    await rig?.stop();
    assert.deepEqual(codes, [0, 0], 'both servers exit 0 on SIGTERM');
  });

  test('serve prints where TLS-ALPN-01 is answered', () => {
    assert.match(listening.output(), new RegExp(`TLS-ALPN-01 on 127\\.0\\.0\\.1:${tlsPort}`));
  });

  test('a certificate created with challengeType tls-alpn-01 is issued by another instance, validated through this listener', async () => {
    const name = `srv-alpn.${ZONE}`;
    const created = await listening.call('POST', '/api/v1/certificates', { key: tenant.apiKey, body: { names: [name], challengeType: 'tls-alpn-01' } });
    const body = await created.json();
    assert.equal(created.status, 202, JSON.stringify(body));
    assert.equal(body.order.answeredBy, 'certkeep');
    const done = await settledOrder(listening, body.order.id, tenant.readKey);
    assert.equal(done.status, 'valid', JSON.stringify(done));
    const pem = await listening.call('GET', `/api/v1/certificates/${name}/files/cert`, { key: tenant.readKey });
    assert.match(new X509Certificate(await pem.text()).subjectAltName ?? '', new RegExp(`DNS:${name.replaceAll('.', '\\.')}`));
  });

  test('the worker killed after storing the answers: a restarted one resumes the same order, validated through the listener', async () => {
    const name = `srv-crash.${ZONE}`;
    // The doomed instance is the only one running orders until it dies.
    assert.equal(await working.stop(), 0);
    // A short lease: the restarted instance's workers take the dead one's order over soon.
    const doomed = await startServer(rig, {
      httpChallengeListen: 'off',
      args: ['--workers', '2', '--lease-seconds', '2'],
      env: { CERTKEEP_CRASH_AFTER_STEP: 'provisioned' },
    });
    const created = await listening.call('POST', '/api/v1/certificates', { key: tenant.apiKey, body: { names: [name], challengeType: 'tls-alpn-01' } });
    const body = await created.json();
    assert.equal(created.status, 202, JSON.stringify(body));
    await eventually(async () => doomed.process.signalCode, (signal) => signal !== null, 60_000, 'the worker killed after "provisioned"');
    assert.equal(doomed.process.signalCode, 'SIGKILL', doomed.output());
    const [killedOrder] = ordersOf(rig.dataDir, name);
    assert.equal(killedOrder.step, 'provisioned');
    assert.equal(storedAnswers(rig.dataDir), 1, 'the answer is in the store, for any listener');
    working = await startServer(rig, { httpChallengeListen: 'off', args: ['--workers', '2'] });

    const done = await settledOrder(listening, body.order.id, tenant.readKey);
    assert.equal(done.status, 'valid', JSON.stringify(done));
    assert.deepEqual(stepsAndUrls(rig.dataDir, name), [{ step: 'valid', order_url: killedOrder.order_url }], 'the same ACME order');
    assert.equal(storedAnswers(rig.dataDir), 0, 'answers are removed once validated');
  });

  test('a server without --tls-alpn-listen refuses tls-alpn-01 with a 400 naming challengeType; nothing is stored', async () => {
    const name = `refused.${ZONE}`;
    const refused = await working.call('POST', '/api/v1/certificates', { key: tenant.apiKey, body: { names: [name], challengeType: 'tls-alpn-01' } });
    const problem = await refused.json();
    assert.equal(refused.status, 400, JSON.stringify(problem));
    assert.match(problem.detail, /challengeType: .*--tls-alpn-listen/);
    assert.equal((await working.call('GET', `/api/v1/certificates/${name}`, { key: tenant.readKey })).status, 404);
    const byClient = await working.call('POST', '/api/v1/certificates', { key: tenant.apiKey, body: { names: [name], challengeType: 'tls-alpn-01', answeredBy: 'client' } });
    assert.equal(byClient.status, 202, 'a client answering TLS-ALPN-01 itself needs no listener');
  });
});
