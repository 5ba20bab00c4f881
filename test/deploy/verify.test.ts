import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { createSecureContext, createServer, type SecureContext } from 'node:tls';
import { deploy, type VersionBundle } from '../../src/deploy/index.ts';
import { freePort } from '../../src/rig/ports.ts';
import { assertCompletePem, deployFixture } from './helpers.ts';

const fixture = deployFixture('certkeep-deploy-verify-');
const newDir = () => fixture.newDir();

/** A TLS server on loopback whose certificate per SNI name the test changes; it records the names asked for. */
async function tlsServer(
  t: { after: (fn: () => unknown) => void },
  serve: (servername: string) => VersionBundle,
) {
  const asked: string[] = [];
  const context = (bundle: VersionBundle): SecureContext =>
    createSecureContext({ cert: bundle.fullchainPem, key: bundle.keyPem });
  const server = createServer({
    SNICallback: (servername, done) => {
      asked.push(servername);
      done(null, context(serve(servername)));
    },
  });
  server.on('tlsClientError', () => {});
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const address = server.address();
  return { address: `127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, asked };
}

test('verified when every name is served the deployed serial; a wildcard is asked for by its base name', async (t) => {
  const bundle = await fixture.ca.issue(['*.example.test', 'example.test', 'www.example.test']);
  const server = await tlsServer(t, () => bundle);
  const outcome = await deploy({ directory: newDir(), verify: [server.address] }, bundle);
  assert.equal(outcome.status, 'deployed');
  assert.ok(outcome.verifiedAt instanceof Date);
  assert.deepEqual([...new Set(server.asked)].sort(), ['example.test', 'www.example.test']);
});

test('it waits for the server to switch (retrying), then records when it saw the serial', async (t) => {
  const old = await fixture.ca.issue(['www.example.test']);
  const next = await fixture.ca.issue(['www.example.test']);
  let handshakes = 0;
  const server = await tlsServer(t, () => (++handshakes < 4 ? old : next));
  const dir = newDir();
  const outcome = await deploy({ directory: dir, verify: [server.address] }, next);
  assert.equal(outcome.status, 'deployed');
  assert.ok(handshakes >= 4);
  const held = await assertCompletePem(dir);
  assert.ok(held.verifiedAt);
});

test('"still serves serial X for NAME" when one name keeps the old certificate; rolled back and checked', async (t) => {
  const old = await fixture.ca.issue(['a.example.test', 'b.example.test']);
  const next = await fixture.ca.issue(['a.example.test', 'b.example.test']);
  let deployed = old;
  // b keeps the old certificate whatever is deployed.
  const server = await tlsServer(t, (name) => (name === 'b.example.test' ? old : deployed));
  const dir = newDir();
  assert.equal((await deploy({ directory: dir, verify: [server.address] }, old)).status, 'deployed');
  deployed = next;
  const outcome = await deploy({ directory: dir, verify: [server.address], verifyTimeoutMs: 600 }, next);
  assert.equal(outcome.status, 'failed');
  assert.equal(outcome.stage, 'verify');
  assert.equal(outcome.rolledBack, true);
  assert.equal(
    outcome.rollbackFailure,
    `${server.address} serves serial ${next.serial} for a.example.test, not the restored ${old.serial} (checked for 0.6 s)`,
  );
  assert.ok(
    outcome.reason.startsWith(
      `${server.address} still serves serial ${old.serial} for b.example.test (checked for 0.6 s); rolled back to serial ${old.serial}, but `,
    ),
    outcome.reason,
  );
  assert.equal((await assertCompletePem(dir)).serial, old.serial);
});

test('an address that does not answer fails the check with the reason', async () => {
  const port = await freePort();
  const bundle = await fixture.ca.issue(['www.example.test']);
  const outcome = await deploy(
    { directory: newDir(), verify: [`127.0.0.1:${port}`], verifyTimeoutMs: 300 },
    bundle,
  );
  assert.equal(outcome.status, 'failed');
  assert.equal(outcome.stage, 'verify');
  assert.match(
    outcome.reason,
    new RegExp(
      `^127\\.0\\.0\\.1:${port} did not complete a TLS handshake for www\\.example\\.test: ECONNREFUSED \\(checked for 0\\.3 s\\); nothing to roll back to`,
    ),
  );
});
