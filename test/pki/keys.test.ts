import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  generateKey,
  isKeyType,
  KEY_TYPES,
  keyTypeOf,
  PkiInputError,
  privateKeyFromPem,
  privateKeyToPem,
} from '../../src/pki/index.ts';
import { tempDir } from '../rig/tmp.ts';
import { makeTestPki, openssl } from './openssl.ts';

const OPENSSL_DESCRIPTION = {
  'ec-p256': /Private-Key: \(256 bit[\s\S]*NIST CURVE: P-256/,
  'ec-p384': /Private-Key: \(384 bit[\s\S]*NIST CURVE: P-384/,
  'rsa-2048': /Private-Key: \(2048 bit/,
  'rsa-3072': /Private-Key: \(3072 bit/,
  'rsa-4096': /Private-Key: \(4096 bit/,
};

describe('keys', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    dir = await tempDir('certkeep-pki-keys-');
  });
  after(() => dir.remove());

  for (const type of KEY_TYPES) {
    test(`${type}: generated, typed, and its PKCS#8 PEM read by openssl pkey`, async () => {
      const key = await generateKey(type);
      assert.equal(key.type, 'private');
      assert.equal(keyTypeOf(key), type);
      const pem = privateKeyToPem(key);
      assert.match(pem, /^-----BEGIN PRIVATE KEY-----\n/);
      const file = join(dir.path, `${type}.pem`);
      await writeFile(file, pem, { mode: 0o600 });
      assert.match(await openssl(['pkey', '-in', file, '-noout', '-text']), OPENSSL_DESCRIPTION[type]);
      const back = privateKeyFromPem(pem);
      assert.equal(keyTypeOf(back), type);
      assert.equal(back.equals(key), true);
    });
  }

  test('privateKeyFromPem reads the SEC 1 and PKCS #1 forms openssl writes', async () => {
    for (const type of ['ec-p256', 'rsa-2048'] as const) {
      const file = join(dir.path, `traditional-${type}.pem`);
      await writeFile(file, privateKeyToPem(await generateKey(type)), { mode: 0o600 });
      const traditional = await openssl(['pkey', '-in', file, '-traditional']);
      assert.match(traditional, type === 'ec-p256' ? /BEGIN EC PRIVATE KEY/ : /BEGIN RSA PRIVATE KEY/);
      assert.equal(keyTypeOf(privateKeyFromPem(traditional)), type);
    }
  });

  test('keyTypeOf is undefined for key types certkeep does not issue with', async () => {
    const file = join(dir.path, 'rsa1024.pem');
    await openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024', '-out', file]);
    assert.equal(keyTypeOf(privateKeyFromPem(await readFile(file, 'utf8'))), undefined);
  });

  test('isKeyType accepts exactly the listed types', () => {
    for (const type of KEY_TYPES) assert.equal(isKeyType(type), true);
    for (const other of ['rsa-1024', 'ec-p521', 'EC-P256', '', 'ed25519'])
      assert.equal(isKeyType(other), false, other);
  });

  test('generateKey refuses an unknown type and names the valid ones', async () => {
    await assert.rejects(generateKey('rsa-1024' as never), (error: Error) => {
      assert.ok(error instanceof PkiInputError);
      assert.match(error.message, /unknown key type "rsa-1024".*ec-p256, ec-p384, rsa-2048/);
      return true;
    });
  });

  test('privateKeyFromPem: garbage, a certificate and an encrypted key get clear errors', async () => {
    assert.throws(() => privateKeyFromPem('hello'), /no PEM private key found/);
    const { leafPem } = await makeTestPki(dir.path);
    assert.throws(() => privateKeyFromPem(leafPem), /no PEM private key found/);
    assert.throws(
      () => privateKeyFromPem('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'),
      (error: Error) => error instanceof PkiInputError && /could not be read/.test(error.message),
    );
    const plain = join(dir.path, 'plain.pem');
    await writeFile(plain, privateKeyToPem(await generateKey('ec-p256')));
    const encrypted = await openssl(['pkey', '-in', plain, '-aes256', '-passout', 'pass:secret']);
    assert.throws(() => privateKeyFromPem(encrypted), /encrypted; decrypt it first/);
  });

  test('privateKeyToPem refuses a public key', async () => {
    const publicKey = createPublicKey(await generateKey('ec-p256'));
    assert.throws(() => privateKeyToPem(publicKey), /expected a private key, got a public key/);
  });
});
