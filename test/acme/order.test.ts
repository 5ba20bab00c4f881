// The whole issuance flow against a real Pebble (validation skipped with
// PEBBLE_VA_ALWAYS_VALID): order → authorizations → finalize → download
// (with alternate chains) → revoke with the account key and with the cert key.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { Agent, request } from 'undici';
import { AcmeProblemError } from '../../src/acme/index.ts';
import { clientWithAccount, issue, makeCsr, pebbleForFile } from './helpers.ts';

const pebble = await pebbleForFile({ env: { PEBBLE_VA_ALWAYS_VALID: '1', PEBBLE_ALTERNATE_ROOTS: '1' } });
const client = await clientWithAccount(pebble);

function certificates(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []).map(
    (p) => new X509Certificate(p),
  );
}

/** Each certificate is signed by the next; the last one by `root`. */
function chainsTo(chain: X509Certificate[], root: X509Certificate): boolean {
  for (let i = 0; i + 1 < chain.length; i++) if (!chain[i].verify(chain[i + 1].publicKey)) return false;
  return chain[chain.length - 1].verify(root.publicKey);
}

async function revocationStatus(cert: X509Certificate): Promise<string> {
  const dispatcher = new Agent({ connect: { ca: pebble.caCertPem } });
  try {
    const serial = cert.serialNumber.toLowerCase().replace(/^0+/, '');
    const res = await request(`${pebble.managementUrl}/cert-status-by-serial/${serial}`, { dispatcher });
    return ((await res.body.json()) as { Status: string }).Status;
  } finally {
    await dispatcher.close();
  }
}

test('issue for a DNS name and an IP: the chain parses, names match and it chains to the root', async () => {
  const identifiers = [
    { type: 'dns' as const, value: 'www.example.com' },
    { type: 'ip' as const, value: '127.0.0.1' },
  ];
  const result = await issue(client, identifiers);
  assert.equal(result.order.status, 'valid');
  const chain = certificates(result.pem);
  assert.ok(chain.length >= 2, 'leaf and intermediate');
  const leaf = chain[0];
  assert.match(leaf.subjectAltName ?? '', /DNS:www\.example\.com/);
  assert.match(leaf.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
  assert.ok(leaf.checkPrivateKey(result.certKey), 'the leaf holds the CSR key');
  const root = new X509Certificate(await pebble.rootsPem());
  assert.ok(chainsTo(chain, root), 'the chain verifies up to Pebble root 0');
});

test('alternate chains are listed and can be downloaded', async () => {
  const result = await issue(client, [{ type: 'dns', value: 'alt.example.com' }]);
  assert.ok(result.alternates.length >= 1, 'PEBBLE_ALTERNATE_ROOTS=1 gives an alternate');
  const alternate = await client.downloadCertificate(result.alternates[0]);
  const main = certificates(result.pem);
  const other = certificates(alternate.pem);
  assert.equal(other[0].fingerprint256, main[0].fingerprint256, 'same leaf');
  assert.notEqual(other.at(-1)!.fingerprint256, main.at(-1)!.fingerprint256, 'different issuer chain');
});

test('revoke with the account key; revoking again says it is already revoked', async () => {
  const { pem } = await issue(client, [{ type: 'dns', value: 'revoke-kid.example.com' }]);
  const leaf = certificates(pem)[0];
  await client.revokeCertificate(new Uint8Array(leaf.raw));
  assert.equal(await revocationStatus(leaf), 'Revoked');
  await assert.rejects(client.revokeCertificate(new Uint8Array(leaf.raw)), (err: Error) => {
    assert.ok(err instanceof AcmeProblemError);
    assert.equal(err.acmeType, 'alreadyRevoked');
    assert.match(err.message, /^revoke certificate failed: .*Nothing to do/);
    return true;
  });
});

test('revoke with the certificate key and a reason', async () => {
  const { pem, certKey } = await issue(client, [{ type: 'dns', value: 'revoke-jwk.example.com' }]);
  const leaf = certificates(pem)[0];
  assert.equal(await revocationStatus(leaf), 'Valid');
  await client.revokeCertificate(new Uint8Array(leaf.raw), { certificateKey: certKey, reason: 1 });
  assert.equal(await revocationStatus(leaf), 'Revoked');
});

test('finalizing before the order is ready, and with a CSR for other names, fail with the CA problem', async () => {
  const { url, order } = await client.newOrder({
    identifiers: [{ type: 'dns', value: 'csr-a.example.com' }],
  });
  const wrong = await makeCsr([{ type: 'dns', value: 'csr-b.example.com' }]);
  const authz = await client.getAuthorization(order.authorizations[0]);
  if (authz.status !== 'valid') {
    const early = await client.finalize(order.finalize, wrong.der).catch((e) => e);
    assert.ok(early instanceof AcmeProblemError, String(early));
    assert.equal(early.acmeType, 'orderNotReady');
    assert.match(early.message, /Finalize only when the order is "ready"/);
    await client.respondToChallenge(authz.challenges[0].url);
    await client.waitForAuthorization(order.authorizations[0]);
  }
  await client.waitForOrder(url, ['ready']);
  await assert.rejects(client.finalize(order.finalize, wrong.der), (err: Error) => {
    assert.ok(err instanceof AcmeProblemError, String(err));
    assert.match(err.message, /^finalize order failed: CSR is missing Order domain "csr-a\.example\.com"/);
    return true;
  });
});

test('renewalInfo is null on Pebble 2.4 (no ARI)', async () => {
  assert.equal(await client.renewalInfo('aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE'), null);
});
