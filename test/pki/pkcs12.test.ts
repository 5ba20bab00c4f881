import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  PKCS12_ITERATIONS,
  PkiInputError,
  privateKeyFromPem,
  splitPemChain,
  toPkcs12,
} from '../../src/pki/index.ts';
import { tempDir } from '../rig/tmp.ts';
import { makeTestPki, openssl, runOpenssl, type TestPki } from './openssl.ts';

const KEYS: Record<string, string[]> = {
  EC: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  RSA: ['-newkey', 'rsa:2048'],
};

describe('toPkcs12', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const pkis: Record<string, TestPki> = {};
  before(async () => {
    dir = await tempDir('certkeep-pki-p12-');
    for (const [kind, args] of Object.entries(KEYS)) {
      await mkdir(join(dir.path, kind));
      pkis[kind] = await makeTestPki(join(dir.path, kind), args);
    }
  });
  after(() => dir.remove());

  async function pfxFile(
    pki: TestPki,
    password: string,
    name: string,
    friendlyName?: string,
  ): Promise<string> {
    const file = join(dir.path, `${name}.pfx`);
    const key = privateKeyFromPem(pki.leafKeyPem);
    await writeFile(file, await toPkcs12({ chainPem: pki.chainPem, key, password, friendlyName }));
    return file;
  }

  for (const kind of Object.keys(KEYS)) {
    test(`${kind}: openssl pkcs12 (no -legacy) opens it; the key and both certificates are inside`, async () => {
      const pki = pkis[kind];
      const file = await pfxFile(pki, 'P', kind, 'leaf.example.test');
      const out = await openssl(['pkcs12', '-in', file, '-passin', 'pass:P', '-nodes']);
      assert.deepEqual(splitPemChain(out), [pki.leafPem, pki.caPem]);
      assert.equal(privateKeyFromPem(out).equals(privateKeyFromPem(pki.leafKeyPem)), true);
      assert.match(out, /friendlyName: leaf\.example\.test/);
      assert.match(out, /localKeyID: [0-9A-F ]+\n/);
    });

    test(`${kind}: openssl -info shows AES-256-CBC with PBKDF2-SHA256 and a SHA-256 MAC`, async () => {
      const file = await pfxFile(pkis[kind], 'P', `${kind}-info`);
      const { stderr, code } = await runOpenssl([
        'pkcs12',
        '-in',
        file,
        '-passin',
        'pass:P',
        '-info',
        '-noout',
      ]);
      assert.equal(code, 0, stderr);
      const pbes2 = `PBES2, PBKDF2, AES-256-CBC, Iteration ${PKCS12_ITERATIONS}, PRF hmacWithSHA256`;
      assert.match(stderr, new RegExp(`MAC: sha256, Iteration ${PKCS12_ITERATIONS}`));
      assert.ok(stderr.includes(`PKCS7 Encrypted data: ${pbes2}`), stderr);
      assert.ok(stderr.includes(`Shrouded Keybag: ${pbes2}`), stderr);
      assert.ok(PKCS12_ITERATIONS >= 2048);
    });
  }

  test('a wrong password is refused by openssl', async () => {
    const file = await pfxFile(pkis.EC, 'right', 'wrong-password');
    const run = await runOpenssl(['pkcs12', '-in', file, '-passin', 'pass:wrong', '-nodes']);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /invalid password|mac verify/i);
    assert.doesNotMatch(run.stdout, /PRIVATE KEY/);
  });

  test('a non-ASCII password works (UTF-8 for PBES2, BMPString for the MAC, as OpenSSL does)', async () => {
    const password = 'pässwört€😀';
    const file = await pfxFile(pkis.EC, password, 'unicode');
    const out = await openssl(['pkcs12', '-in', file, '-passin', `pass:${password}`, '-nodes']);
    assert.equal(privateKeyFromPem(out).equals(privateKeyFromPem(pkis.EC.leafKeyPem)), true);
  });

  test('an empty password and a key that is not the leaf’s are refused', async () => {
    const key = privateKeyFromPem(pkis.EC.leafKeyPem);
    await assert.rejects(
      toPkcs12({ chainPem: pkis.EC.chainPem, key, password: '' }),
      (error: Error) => error instanceof PkiInputError && /needs a password/.test(error.message),
    );
    await assert.rejects(
      toPkcs12({ chainPem: pkis.EC.chainPem, key: privateKeyFromPem(pkis.RSA.leafKeyPem), password: 'P' }),
      /private key does not belong to the leaf certificate/,
    );
  });
});
