import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PkiInputError, parseCsr } from '../../src/pki/index.ts';
import { tempDir } from '../rig/tmp.ts';
import { openssl } from './openssl.ts';

describe('parseCsr on CSRs made by openssl', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    dir = await tempDir('certkeep-pki-csrparse-');
  });
  after(() => dir.remove());

  async function opensslCsr(
    name: string,
    keyArgs: string[],
    subject: string,
    ...extra: string[]
  ): Promise<string> {
    const out = join(dir.path, `${name}.csr`);
    await openssl([
      'req',
      '-new',
      ...keyArgs,
      '-nodes',
      '-keyout',
      join(dir.path, `${name}.key`),
      '-out',
      out,
      '-subj',
      subject,
      ...extra,
    ]);
    return readFile(out, 'utf8');
  }

  test('a 1024-bit RSA CSR reports keyBits 1024, so it can be refused', async () => {
    const pem = await opensslCsr(
      'rsa1024',
      ['-newkey', 'rsa:1024'],
      '/CN=weak.example.test',
      '-addext',
      'subjectAltName=DNS:weak.example.test,DNS:www.weak.example.test',
    );
    const csr = parseCsr(pem);
    assert.equal(csr.keyType, 'rsa');
    assert.equal(csr.keyBits, 1024);
    assert.equal(csr.matchingKeyType, undefined);
    assert.equal(csr.signatureValid, true);
    assert.equal(csr.signatureAlgorithm, 'sha256WithRSAEncryption');
    assert.equal(csr.commonName, 'weak.example.test');
    assert.deepEqual(csr.identifiers, [
      { type: 'dns', value: 'weak.example.test' },
      { type: 'dns', value: 'www.weak.example.test' },
    ]);
  });

  test('an EC P-384 CSR: curve, size, subject, and a CN missing from the SANs is added to the names', async () => {
    const pem = await opensslCsr(
      'p384',
      ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'],
      '/C=DE/O=Beispiel GmbH/CN=Apex.Example.Test',
      '-addext',
      'subjectAltName=DNS:www.example.test,IP:2001:db8:0:0:1:0:0:1',
    );
    const csr = parseCsr(pem);
    assert.deepEqual(
      [csr.keyType, csr.keyBits, csr.curve, csr.matchingKeyType],
      ['ec', 384, 'P-384', 'ec-p384'],
    );
    assert.equal(csr.subject, 'CN=Apex.Example.Test, O=Beispiel GmbH, C=DE');
    assert.deepEqual(csr.subjectFields, { country: 'DE', organization: 'Beispiel GmbH' });
    assert.deepEqual(csr.identifiers, [
      { type: 'dns', value: 'www.example.test' },
      { type: 'ip', value: '2001:db8::1:0:0:1' },
      { type: 'dns', value: 'apex.example.test' },
    ]);
    assert.equal(csr.signatureValid, true);
  });

  test('a CN that is not a host name is not taken as a name; DER input works too', async () => {
    await opensslCsr('org', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], '/CN=My Company Ltd');
    await openssl([
      'req',
      '-in',
      join(dir.path, 'org.csr'),
      '-outform',
      'DER',
      '-out',
      join(dir.path, 'org.der'),
    ]);
    const csr = parseCsr(await readFile(join(dir.path, 'org.der')));
    assert.equal(csr.commonName, 'My Company Ltd');
    assert.deepEqual(csr.identifiers, []);
  });

  test('an Ed25519 CSR is read (and reported as such, so a caller can refuse it)', async () => {
    const csr = parseCsr(await opensslCsr('ed', ['-newkey', 'ed25519'], '/CN=ed.example.test'));
    assert.deepEqual(
      [csr.keyType, csr.matchingKeyType, csr.signatureAlgorithm, csr.signatureValid],
      ['ed25519', undefined, 'Ed25519', true],
    );
  });

  test('a tampered CSR has signatureValid false', async () => {
    const pem = await opensslCsr('tamper', ['-newkey', 'rsa:2048'], '/CN=tamper.example.test');
    const der = new Uint8Array(parseCsr(pem).der);
    der[der.length - 1] ^= 0x01;
    assert.equal(parseCsr(der).signatureValid, false);
  });

  test('garbage, truncated DER and a certificate instead of a CSR get clear errors', async () => {
    const isInputError = (pattern: RegExp) => (error: Error) =>
      error instanceof PkiInputError && pattern.test(error.message);
    assert.throws(
      () => parseCsr('just some text'),
      isInputError(/CSR: no "-----BEGIN CERTIFICATE REQUEST-----" PEM block found/),
    );
    assert.throws(
      () => parseCsr('-----BEGIN CERTIFICATE REQUEST-----\n!!!\n-----END CERTIFICATE REQUEST-----'),
      isInputError(/CSR: PEM block 1 is not valid base64/),
    );
    const pem = await opensslCsr(
      'cut',
      ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
      '/CN=cut.example.test',
    );
    const der = parseCsr(pem).der;
    assert.throws(
      () => parseCsr(der.subarray(0, der.length - 10)),
      isInputError(/CSR: malformed DER \(truncated\)/),
    );
    assert.throws(
      () => parseCsr(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00)),
      isInputError(/CSR: malformed DER/),
    );
    const cert = await openssl([
      'req',
      '-x509',
      '-key',
      join(dir.path, 'cut.key'),
      '-subj',
      '/CN=x',
      '-days',
      '1',
    ]);
    assert.throws(() => parseCsr(cert), isInputError(/no "-----BEGIN CERTIFICATE REQUEST-----"/));
  });
});
