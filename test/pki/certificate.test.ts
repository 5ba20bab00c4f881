import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ariCertId, certificateDer, PkiInputError, parseCertificate } from '../../src/pki/index.ts';
import { tempDir } from '../rig/tmp.ts';
import { makeTestPki, openssl, RFC9773_EXAMPLE, type TestPki } from './openssl.ts';

/** openssl's "Nov 22 21:42:50 2026 GMT" -> Date */
function opensslDate(text: string): Date {
  return new Date(text.replace(/\s+/g, ' ').replace(' GMT', 'Z'));
}

describe('parseCertificate on a certificate made by openssl', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let pki: TestPki;
  before(async () => {
    dir = await tempDir('certkeep-pki-cert-');
    pki = await makeTestPki(dir.path);
  });
  after(() => dir.remove());

  test('SANs, subject, issuer, serial and AKI match what openssl prints', async () => {
    const cert = parseCertificate(pki.leafPem);
    assert.deepEqual(cert.identifiers, [
      { type: 'dns', value: 'leaf.example.test' },
      { type: 'dns', value: '*.leaf.example.test' },
      { type: 'ip', value: '192.0.2.7' },
      { type: 'ip', value: '2001:db8::7' },
    ]);
    assert.equal(cert.commonName, 'leaf.example.test');
    assert.equal(cert.subject, 'CN=leaf.example.test');
    assert.equal(cert.issuer, 'CN=Test CA, O=Test\\, Org, C=US');
    const printed = await openssl([
      'x509',
      '-in',
      pki.leafPath,
      '-noout',
      '-serial',
      '-ext',
      'authorityKeyIdentifier',
    ]);
    assert.match(printed, /serial=87654321\n/);
    assert.equal(cert.serial, '87654321');
    assert.equal(cert.authorityKeyId, RFC9773_EXAMPLE.keyIdentifier.replaceAll(':', '').toLowerCase());
    assert.match(printed, new RegExp(RFC9773_EXAMPLE.keyIdentifier));
  });

  test('notBefore and notAfter match openssl, to the second', async () => {
    const printed = await openssl(['x509', '-in', pki.leafPath, '-noout', '-startdate', '-enddate']);
    const [, start] = /notBefore=(.*)/.exec(printed) ?? [];
    const [, end] = /notAfter=(.*)/.exec(printed) ?? [];
    const cert = parseCertificate(pki.leafPem);
    assert.equal(cert.notBefore.toISOString(), opensslDate(start).toISOString());
    assert.equal(cert.notAfter.toISOString(), opensslDate(end).toISOString());
    assert.equal(cert.notAfter.getTime() - cert.notBefore.getTime(), 10 * 24 * 3600 * 1000);
  });

  test('ariCertId reproduces the worked example of RFC 9773 §4.1 (serial 00:87:65:43:21)', () => {
    assert.equal(parseCertificate(pki.leafPem).ariCertId, RFC9773_EXAMPLE.certId);
    assert.equal(ariCertId(pki.chainPem), RFC9773_EXAMPLE.certId, 'from a chain, the leaf is used');
  });

  test('fingerprint, DER and PEM are those of the leaf; a chain yields its first certificate', async () => {
    const cert = parseCertificate(pki.chainPem);
    assert.equal(
      cert.fingerprintSha256,
      createHash('sha256').update(certificateDer(pki.leafPem)).digest('hex'),
    );
    const printed = await openssl(['x509', '-in', pki.leafPath, '-noout', '-fingerprint', '-sha256']);
    assert.equal(cert.fingerprintSha256, printed.split('=')[1].trim().replaceAll(':', '').toLowerCase());
    assert.equal(cert.pem, pki.leafPem);
    assert.deepEqual(parseCertificate(cert.der).serial, cert.serial);
  });

  test('a root without AKI has no ariCertId; ariCertId() says why', () => {
    const ca = parseCertificate(pki.caPem);
    assert.equal(ca.subject, 'CN=Test CA, O=Test\\, Org, C=US');
    assert.equal(ca.authorityKeyId, undefined);
    assert.equal(ca.ariCertId, undefined);
    assert.throws(() => ariCertId(pki.caPem), /no Authority Key Identifier/);
  });

  test('serials: the DER sign byte is dropped, small and leading-zero values keep whole bytes', async () => {
    const cases: [string, string, string][] = [
      ['0x0a', '0a', 'Cg'],
      ['0x7f01', '7f01', 'fwE'],
      ['0x80', '80', 'AIA'],
      ['0x00ff00', 'ff00', 'AP8A'],
    ];
    for (const [set, serial, ariSerial] of cases) {
      const out = join(dir.path, `serial-${serial}.pem`);
      await openssl([
        'x509',
        '-req',
        '-in',
        join(dir.path, 'leaf.csr'),
        '-CA',
        join(dir.path, 'ca.pem'),
        '-CAkey',
        join(dir.path, 'ca.key'),
        '-set_serial',
        set,
        '-days',
        '1',
        '-extfile',
        join(dir.path, 'leaf.ext'),
        '-out',
        out,
      ]);
      const cert = parseCertificate(await openssl(['x509', '-in', out]));
      assert.equal(cert.serial, serial, set);
      assert.equal(cert.ariCertId?.split('.')[1], ariSerial, set);
    }
  });

  test('garbage and broken input get clear errors', () => {
    const isInputError = (pattern: RegExp) => (error: Error) =>
      error instanceof PkiInputError && pattern.test(error.message);
    assert.throws(
      () => parseCertificate('nothing here'),
      isInputError(/certificate: no "-----BEGIN CERTIFICATE-----" PEM block found/),
    );
    const der = certificateDer(pki.leafPem);
    assert.throws(
      () => parseCertificate(der.subarray(0, 100)),
      isInputError(/certificate: malformed DER \(truncated\)/),
    );
    assert.throws(
      () => parseCertificate(pki.leafPem.replace('-----END CERTIFICATE-----', '')),
      isInputError(/has no matching "-----END CERTIFICATE-----"/),
    );
    assert.throws(
      () => certificateDer('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'),
      isInputError(/malformed DER/),
    );
  });
});
