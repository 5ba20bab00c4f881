import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  createCsr,
  generateKey,
  type Identifier,
  identifiersFromNames,
  KEY_TYPES,
  PkiInputError,
  parseCsr,
  validateCsrSubject,
} from '../../src/pki/index.ts';
import { tempDir } from '../rig/tmp.ts';
import { openssl, runOpenssl } from './openssl.ts';

const NAMES = identifiersFromNames(['Example.TEST.', '*.example.test', '192.0.2.1', '2001:db8::1']);

describe('createCsr', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let count = 0;
  before(async () => {
    dir = await tempDir('certkeep-pki-csr-');
  });
  after(() => dir.remove());

  /** Writes the DER CSR and returns `openssl req -text` for it, after openssl verified its signature. */
  async function verifiedText(csr: Uint8Array): Promise<string> {
    const file = join(dir.path, `req-${++count}.der`);
    await writeFile(file, csr);
    const verify = await runOpenssl(['req', '-inform', 'DER', '-in', file, '-verify', '-noout']);
    assert.equal(verify.code, 0, verify.stderr);
    assert.match(verify.stdout + verify.stderr, /verify OK/);
    return openssl(['req', '-inform', 'DER', '-in', file, '-noout', '-text']);
  }

  for (const type of KEY_TYPES) {
    test(`${type}: openssl verifies the CSR and sees DNS, wildcard, IPv4 and IPv6 names`, async () => {
      const csr = await createCsr(await generateKey(type), NAMES);
      const text = await verifiedText(csr);
      assert.match(text, /Subject: CN ?= ?example\.test\n/);
      assert.match(
        text,
        /Subject Alternative Name: *\n *DNS:example\.test, DNS:\*\.example\.test, IP Address:192\.0\.2\.1, IP Address:2001:DB8:0:0:0:0:0:1\n/,
      );
      assert.match(
        text,
        type.startsWith('rsa')
          ? /sha256WithRSAEncryption/
          : type === 'ec-p256'
            ? /ecdsa-with-SHA256/
            : /ecdsa-with-SHA384/,
      );
      const parsed = parseCsr(csr);
      assert.deepEqual(parsed.identifiers, NAMES);
      assert.equal(parsed.matchingKeyType, type);
      assert.equal(parsed.signatureValid, true);
    });
  }

  test('subject fields go into the subject in the usual order', async () => {
    const subject = {
      country: 'de',
      state: 'Berlin',
      locality: 'Berlin-Mitte',
      organization: 'Beispiel, GmbH',
      organizationalUnit: 'Ops',
      email: 'hostmaster@example.test',
    };
    const csr = await createCsr(await generateKey('ec-p256'), NAMES, subject);
    const text = await verifiedText(csr);
    assert.match(
      text,
      /Subject: C ?= ?DE, ST ?= ?Berlin, L ?= ?Berlin-Mitte, O ?= ?"Beispiel, GmbH", OU ?= ?Ops, CN ?= ?example\.test, emailAddress ?= ?hostmaster@example\.test/,
    );
    assert.deepEqual(parseCsr(csr).subjectFields, { ...subject, country: 'DE' });
  });

  test('the CN is the first DNS name that fits in 64 characters', async () => {
    const long = `${'a'.repeat(60)}.example.test`;
    const key = await generateKey('ec-p256');
    const withShort = await verifiedText(
      await createCsr(key, identifiersFromNames([long, 'short.example.test'])),
    );
    assert.match(withShort, /Subject: CN ?= ?short\.example\.test\n/);
    const onlyLong = await verifiedText(await createCsr(key, identifiersFromNames([long])));
    assert.match(onlyLong, /Subject: *\n/);
    assert.match(
      onlyLong,
      /Subject Alternative Name: critical/,
      'RFC 5280 §4.2.1.6: critical when the subject is empty',
    );
  });

  test('an IP-only CSR has an empty subject and a critical subjectAltName', async () => {
    const text = await verifiedText(
      await createCsr(await generateKey('ec-p256'), identifiersFromNames(['127.0.0.1', '::1'])),
    );
    assert.match(
      text,
      /Subject Alternative Name: critical\n *IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1\n/,
    );
  });

  test('bad names, a bad subject field and a public key are refused with the reason', async () => {
    const key = await generateKey('ec-p256');
    const refuses = async (identifiers: Identifier[], pattern: RegExp, subject = {}) =>
      assert.rejects(createCsr(key, identifiers, subject), (error: Error) => {
        assert.ok(error instanceof PkiInputError, error.message);
        assert.match(error.message, pattern);
        return true;
      });
    await refuses([], /at least one DNS name or IP address/);
    await refuses(
      [{ type: 'dns', value: 'a..example.test' }],
      /invalid DNS name "a\.\.example\.test": .*empty label/,
    );
    await refuses([{ type: 'ip', value: '300.1.1.1' }], /invalid identifier .*300\.1\.1\.1/);
    await refuses([{ type: 'email', value: 'x@example.test' } as never], /invalid identifier/);
    await refuses(NAMES, /CSR subject country must be a two-letter ISO 3166 code/, { country: 'Germany' });
    await assert.rejects(
      createCsr(createPublicKey(key), NAMES),
      /signed with a private key, not a public key/,
    );
  });
});

describe('validateCsrSubject', () => {
  test('accepts empty and reasonable fields', () => {
    assert.equal(validateCsrSubject({}), null);
    assert.equal(validateCsrSubject({ organization: '', country: '  ' }), null);
    assert.equal(
      validateCsrSubject({ organization: 'Müller & Söhne', country: 'AT', email: 'a@b.example' }),
      null,
    );
  });

  test('names the field and the reason', () => {
    assert.deepEqual(validateCsrSubject({ organization: 'x'.repeat(65) }), {
      field: 'organization',
      reason: 'is 65 characters long; at most 64 are allowed',
    });
    assert.equal(validateCsrSubject({ locality: 'Line\nbreak' })?.reason, 'contains control characters');
    assert.equal(validateCsrSubject({ email: 'not an address' })?.field, 'email');
    assert.equal(
      validateCsrSubject({ state: 'bad \ud800' })?.reason,
      'contains invalid Unicode (an unpaired surrogate)',
    );
    assert.equal(validateCsrSubject({ country: 'D1' })?.field, 'country');
    assert.deepEqual(validateCsrSubject({ organization: 42 } as never), {
      field: 'organization',
      reason: 'must be text',
    });
    assert.equal(validateCsrSubject({ organization: '😀'.repeat(64) }), null, 'counted in characters');
  });
});
