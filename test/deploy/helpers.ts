// What the deploy tests check again and again: that DIR shows one complete version, whose key
// belongs to its certificate.
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { type DeployedVersion, normalSerial, readDeployment } from '../../src/deploy/index.ts';

/** DIR resolves to a version whose pem files are all there and belong together; returns what it holds. */
export async function assertCompletePem(directory: string): Promise<DeployedVersion> {
  const held = await readDeployment(directory);
  assert.ok(held, `${directory} holds no certkeep version`);
  const resolved = await realpath(directory);
  const [cert, chain, fullchain, key] = await Promise.all(
    ['cert.pem', 'chain.pem', 'fullchain.pem', 'privkey.pem'].map((name) =>
      readFile(join(resolved, name), 'utf8'),
    ),
  );
  const leaf = new X509Certificate(cert);
  assert.ok(leaf.checkPrivateKey(createPrivateKey(key)), 'privkey.pem does not belong to cert.pem');
  assert.equal(fullchain, cert + chain);
  assert.equal(normalSerial(leaf.serialNumber), normalSerial(held.serial ?? ''));
  return held;
}
