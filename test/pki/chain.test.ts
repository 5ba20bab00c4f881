import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  generateKey,
  PkiInputError,
  pemBundle,
  privateKeyFromPem,
  privateKeyToPem,
  sameLeaf,
  splitPemChain,
  topIssuerName,
} from '../../src/pki/index.ts';
import { tempDir } from '../rig/tmp.ts';
import { makeTestPki, type TestPki } from './openssl.ts';

/** The same PEM with CRLF line ends, indentation, trailing blanks and 76-character lines. */
function messUp(pem: string): string {
  const body = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const lines = body.match(/.{1,76}/g) ?? [];
  return `  -----BEGIN CERTIFICATE-----  \r\n${lines.map((l) => `\t${l}  `).join('\r\n')}\r\n\r\n-----END CERTIFICATE-----\r\n`;
}

describe('chains', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let pki: TestPki;
  before(async () => {
    dir = await tempDir('certkeep-pki-chain-');
    pki = await makeTestPki(dir.path);
  });
  after(() => dir.remove());

  test('splitPemChain normalizes blocks with CRLF, odd whitespace and text around them', () => {
    const messy = `subject=CN = leaf.example.test\r\n${messUp(pki.leafPem)}\r\n\r\nissuer: Test CA\n${messUp(pki.caPem)}\n\n`;
    assert.deepEqual(splitPemChain(messy), [pki.leafPem, pki.caPem]);
    for (const block of splitPemChain(messy)) {
      assert.match(
        block,
        /^-----BEGIN CERTIFICATE-----\n([A-Za-z0-9+/=]{64}\n)*[A-Za-z0-9+/=]{1,64}\n-----END CERTIFICATE-----\n$/,
      );
    }
  });

  test('splitPemChain ignores other block types such as a private key', () => {
    assert.deepEqual(splitPemChain(pki.leafKeyPem + pki.chainPem), [pki.leafPem, pki.caPem]);
  });

  test('splitPemChain refuses text without certificates, an unterminated block and bad base64', () => {
    const isInputError = (pattern: RegExp) => (error: Error) =>
      error instanceof PkiInputError && pattern.test(error.message);
    assert.throws(() => splitPemChain(''), isInputError(/no "-----BEGIN CERTIFICATE-----" PEM block found/));
    assert.throws(() => splitPemChain(pki.leafKeyPem), isInputError(/no "-----BEGIN CERTIFICATE-----"/));
    const unterminated = pki.leafPem.replace('-----END CERTIFICATE-----\n', '') + pki.caPem;
    assert.throws(
      () => splitPemChain(unterminated),
      isInputError(/has no matching "-----END CERTIFICATE-----" line/),
    );
    assert.throws(
      () => splitPemChain(pki.leafPem + pki.caPem.replace(/\n[A-Za-z]/, '\n*')),
      isInputError(/PEM block 2 is not valid base64/),
    );
  });

  test('pemBundle: cert is the leaf, chain the rest, fullchain both, key the PKCS#8 key', () => {
    const key = privateKeyFromPem(pki.leafKeyPem);
    const files = pemBundle(messUp(pki.leafPem) + messUp(pki.caPem), key);
    assert.equal(files.cert, pki.leafPem);
    assert.equal(files.chain, pki.caPem);
    assert.equal(files.fullchain, pki.leafPem + pki.caPem);
    assert.equal(files.key, privateKeyToPem(key));
    assert.match(files.key, /^-----BEGIN PRIVATE KEY-----\n/);
  });

  test('pemBundle of a leaf alone has an empty chain', () => {
    const files = pemBundle(pki.leafPem, privateKeyFromPem(pki.leafKeyPem));
    assert.equal(files.chain, '');
    assert.equal(files.fullchain, pki.leafPem);
  });

  test('pemBundle refuses a key that is not the leaf’s', async () => {
    for (const other of [await generateKey('ec-p256'), await generateKey('rsa-2048')]) {
      assert.throws(
        () => pemBundle(pki.chainPem, other),
        (error: Error) =>
          error instanceof PkiInputError &&
          /private key does not belong to the leaf certificate/.test(error.message),
      );
    }
  });

  test('topIssuerName: the issuer CN of the last certificate, by which --preferred-chain names a chain', () => {
    assert.equal(topIssuerName(pki.chainPem), 'Test CA', 'the root at the top names itself');
    assert.equal(topIssuerName(pki.leafPem), 'Test CA', 'a leaf alone: its issuer');
    assert.equal(topIssuerName(messUp(pki.leafPem) + messUp(pki.caPem)), 'Test CA');
  });

  test('sameLeaf compares the first certificates only', () => {
    assert.ok(sameLeaf(pki.chainPem, messUp(pki.leafPem)));
    assert.ok(!sameLeaf(pki.chainPem, pki.caPem));
  });
});
