// Shared helpers for the ACME tests: keys, CSRs (made with openssl), a Pebble
// that stops after the test file, and the whole order-to-certificate flow.
import { execFile } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after } from 'node:test';
import { promisify } from 'node:util';
import { AcmeClient, type AcmeIdentifier } from '../../src/acme/index.ts';
import { type Pebble, type PebbleOptions, startPebble } from '../../src/rig/pebble.ts';
import { tempDir } from '../rig/tmp.ts';

const run = promisify(execFile);

export function ecKey(curve: 'P-256' | 'P-384' = 'P-256'): KeyObject {
  return generateKeyPairSync('ec', { namedCurve: curve }).privateKey;
}

/** Starts Pebble and stops it when the file ends, even on failure. Call at the top level of a test file. */
export async function pebbleForFile(opts: PebbleOptions = {}): Promise<Pebble> {
  const pebble = await startPebble(opts);
  after(() => pebble.stop());
  return pebble;
}

/** A client with a fresh account on `pebble`, closed after the test file. */
export async function clientWithAccount(pebble: Pebble, key = ecKey()): Promise<AcmeClient> {
  const client = new AcmeClient({
    directoryUrl: pebble.directoryUrl,
    accountKey: key,
    caCert: pebble.caCertPem,
  });
  after(() => client.close());
  await client.createAccount({ termsOfServiceAgreed: true, contact: ['mailto:ops@example.com'] });
  return client;
}

/** A DER CSR for `identifiers` and its private key, made by openssl. */
export async function makeCsr(identifiers: AcmeIdentifier[]): Promise<{ der: Uint8Array; key: KeyObject }> {
  const key = ecKey();
  const dir = await tempDir('certkeep-csr-');
  try {
    const keyFile = join(dir.path, 'key.pem');
    const csrFile = join(dir.path, 'csr.der');
    await writeFile(keyFile, key.export({ type: 'pkcs8', format: 'pem' }));
    const san = identifiers.map((id) => `${id.type === 'ip' ? 'IP' : 'DNS'}:${id.value}`).join(',');
    await run('openssl', [
      'req',
      '-new',
      '-key',
      keyFile,
      '-subj',
      `/CN=${identifiers[0].value}`,
      '-addext',
      `subjectAltName=${san}`,
      '-outform',
      'DER',
      '-out',
      csrFile,
    ]);
    return { der: new Uint8Array(await readFile(csrFile)), key };
  } finally {
    await dir.remove();
  }
}

/** Order → authorizations (http-01, Pebble with PEBBLE_VA_ALWAYS_VALID) → finalize → download. */
export async function issue(client: AcmeClient, identifiers: AcmeIdentifier[]) {
  const { url, order } = await client.newOrder({ identifiers });
  for (const authzUrl of order.authorizations) {
    const authz = await client.getAuthorization(authzUrl);
    if (authz.status === 'valid') continue;
    const challenge = authz.challenges.find((c) => c.type === 'http-01');
    if (!challenge) throw new Error(`no http-01 challenge in ${authzUrl}`);
    await client.respondToChallenge(challenge.url);
    await client.waitForAuthorization(authzUrl);
  }
  await client.waitForOrder(url, ['ready']);
  const csr = await makeCsr(identifiers);
  await client.finalize(order.finalize, csr.der);
  const valid = await client.waitForOrder(url, ['valid']);
  const download = await client.downloadCertificate(valid.certificate!);
  return { orderUrl: url, order: valid, certKey: csr.key, ...download };
}
