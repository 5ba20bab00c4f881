// The TLS-ALPN-01 validation certificate, read back by OpenSSL, and the
// reverse names that stand for IP identifiers in the SNI.
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createTlsAlpnCertificate, identifierFromServerName } from '../../src/pki/index.ts';
import { ipFromReverseName, reverseName } from '../../src/pki/ip.ts';
import { tempDir } from '../rig/tmp.ts';
import { openssl, runOpenssl } from './openssl.ts';

const KEY_AUTHORIZATION = 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.nP1qzpXGymHBrUEepNY9HCsQk7K8KhOypzEeO1KrWmg';
const DIGEST_HEX = createHash('sha256').update(KEY_AUTHORIZATION).digest('hex');

describe('the TLS-ALPN-01 validation certificate (RFC 8737 §3)', () => {
  let dir: { path: string; remove(): Promise<void> };
  before(async () => {
    dir = await tempDir('certkeep-alpn-');
  });
  after(() => dir.remove());

  async function written(name: string, pem: string): Promise<string> {
    const file = join(dir.path, name);
    await writeFile(file, pem);
    return file;
  }

  test('a DNS name: OpenSSL reads one SAN and the critical acmeIdentifier holding SHA-256 of the key authorization', async () => {
    const { certPem, keyPem } = await createTlsAlpnCertificate({ type: 'dns', value: 'www.example.test' }, KEY_AUTHORIZATION);
    const file = await written('dns.pem', certPem);
    const text = await openssl(['x509', '-in', file, '-noout', '-text']);
    assert.match(text, /Version: 3/);
    assert.match(text, /Subject Alternative Name: \n\s+DNS:www\.example\.test\n/, 'exactly one dNSName, not critical beside a CN');
    assert.match(text, /1\.3\.6\.1\.5\.5\.7\.1\.31: critical/);
    const parsed = await openssl(['asn1parse', '-in', file]);
    const extension = /:(?:id-pe-acmeIdentifier|1\.3\.6\.1\.5\.5\.7\.1\.31)\n.*BOOLEAN\s+:255\n.*OCTET STRING\s+\[HEX DUMP\]:([0-9A-F]+)/.exec(parsed);
    assert.ok(extension, parsed);
    assert.equal(extension[1].toLowerCase(), `0420${DIGEST_HEX}`, 'an OCTET STRING of the 32-byte digest');
    const certificate = new X509Certificate(certPem);
    assert.ok(certificate.checkPrivateKey(createPrivateKey(keyPem)), 'the key belongs to the certificate');
    assert.ok(certificate.verify(certificate.publicKey), 'self-signed');
    assert.ok(Date.parse(certificate.validFrom) < Date.now() && Date.parse(certificate.validTo) > Date.now());
  });

  test('OpenSSL verifies the self-signature, and refuses the certificate for anything else (the extension is critical)', async () => {
    const { certPem } = await createTlsAlpnCertificate({ type: 'dns', value: 'a.example.test' }, KEY_AUTHORIZATION);
    const file = await written('verify.pem', certPem);
    assert.equal((await runOpenssl(['verify', '-ignore_critical', '-CAfile', file, file])).code, 0);
    const strict = await runOpenssl(['verify', '-CAfile', file, file]);
    assert.notEqual(strict.code, 0);
    assert.match(strict.stdout + strict.stderr, /unhandled critical extension/);
  });

  test('an IP address: an iPAddress SAN (critical: the subject is empty), no CN', async () => {
    const { certPem } = await createTlsAlpnCertificate({ type: 'ip', value: '2001:db8::7' }, KEY_AUTHORIZATION);
    const text = await openssl(['x509', '-in', await written('ip.pem', certPem), '-noout', '-text']);
    assert.match(text, /Subject Alternative Name: critical\n\s+IP Address:2001:DB8:0:0:0:0:0:7\n/);
    assert.doesNotMatch(text, /CN ?=/);
  });

  test('each certificate has its own key and serial', async () => {
    const one = new X509Certificate((await createTlsAlpnCertificate({ type: 'dns', value: 'a.example.test' }, KEY_AUTHORIZATION)).certPem);
    const two = new X509Certificate((await createTlsAlpnCertificate({ type: 'dns', value: 'a.example.test' }, KEY_AUTHORIZATION)).certPem);
    assert.notEqual(one.serialNumber, two.serialNumber);
    assert.notEqual(one.publicKey.export({ format: 'jwk' }).x, two.publicKey.export({ format: 'jwk' }).x);
  });

  test('a name that is not an IP, given as one, is refused', async () => {
    await assert.rejects(createTlsAlpnCertificate({ type: 'ip', value: 'example.test' }, KEY_AUTHORIZATION), /"example\.test" is not an IP address/);
  });
});

describe('reverse names for IP identifiers in the SNI (RFC 8738 §6)', () => {
  const pairs: [string, string][] = [
    ['127.0.0.1', '1.0.0.127.in-addr.arpa'],
    ['192.0.2.10', '10.2.0.192.in-addr.arpa'],
    ['2001:db8::1', `1.${'0.'.repeat(23)}8.b.d.0.1.0.0.2.ip6.arpa`],
  ];
  for (const [ip, name] of pairs) {
    test(`${ip} <-> ${name.slice(0, 30)}…`, () => {
      assert.equal(reverseName(ip), name);
      assert.equal(ipFromReverseName(name), ip);
      assert.equal(ipFromReverseName(`${name.toUpperCase()}.`), ip, 'case and a trailing dot do not matter');
      assert.deepEqual(identifierFromServerName(name), { type: 'ip', value: ip });
    });
  }

  test('other names are DNS identifiers, lower-cased', () => {
    assert.deepEqual(identifierFromServerName('WWW.Example.test.'), { type: 'dns', value: 'www.example.test' });
    for (const name of ['300.0.0.127.in-addr.arpa', '0.0.127.in-addr.arpa', '1.2.ip6.arpa', 'in-addr.arpa']) {
      assert.equal(ipFromReverseName(name), undefined, name);
      assert.equal(identifierFromServerName(name).type, 'dns', name);
    }
    assert.equal(reverseName('not-an-ip'), undefined);
  });
});
