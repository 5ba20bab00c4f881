// JWS signing (RFC 7515 / RFC 8555 §6.2), thumbprints (RFC 7638) and EAB MACs (RFC 8555 §7.3.4).
import assert from 'node:assert/strict';
import {
  createHash,
  sign,
  createHmac,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
  verify,
} from 'node:crypto';
import { test } from 'node:test';
import {
  derToRawEcdsa,
  externalAccountBinding,
  type FlattenedJws,
  JwsSigner,
  jwkThumbprint,
} from '../../src/acme/jws.ts';
import { AcmeClient } from '../../src/acme/index.ts';
import { ecKey } from './helpers.ts';

function decode(part: string): unknown {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

function verifies(jws: FlattenedJws, key: KeyObject, digest: string): boolean {
  const data = Buffer.from(`${jws.protected}.${jws.payload}`);
  return verify(digest, data, { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(jws.signature, 'base64url'));
}

const cases = [
  { alg: 'ES256', key: () => ecKey('P-256'), digest: 'sha256', sigBytes: 64 },
  { alg: 'ES384', key: () => ecKey('P-384'), digest: 'sha384', sigBytes: 96 },
  {
    alg: 'RS256',
    key: () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
    digest: 'sha256',
    sigBytes: 256,
  },
] as const;

for (const c of cases) {
  test(`${c.alg}: kid JWS verifies, with a raw signature and the ACME header`, () => {
    const key = c.key();
    const signer = new JwsSigner(key);
    assert.equal(signer.algorithm, c.alg);
    const jws = signer.signWithKid('https://ca.test/order/1', 'n0nce', 'https://ca.test/acct/7', '{"a":1}');
    assert.deepEqual(decode(jws.protected), {
      alg: c.alg,
      kid: 'https://ca.test/acct/7',
      nonce: 'n0nce',
      url: 'https://ca.test/order/1',
    });
    assert.deepEqual(decode(jws.payload), { a: 1 });
    assert.equal(
      Buffer.from(jws.signature, 'base64url').length,
      c.sigBytes,
      'ECDSA signatures are r||s, not DER',
    );
    assert.ok(verifies(jws, createPublicKey(key), c.digest));
  });
}

test('jwk JWS carries the public key; POST-as-GET has an empty payload', () => {
  const key = ecKey();
  const signer = new JwsSigner(key);
  const jws = signer.signWithJwk('https://ca.test/new-acct', 'abc', '');
  const header = decode(jws.protected) as { jwk: JsonWebKey; kid?: string };
  assert.equal(header.kid, undefined);
  assert.deepEqual(header.jwk, JSON.parse(signer.jwkJson));
  assert.equal(jws.payload, '');
  assert.ok(verifies(jws, createPublicKey({ key: header.jwk, format: 'jwk' }), 'sha256'));
});

test('a tampered JWS does not verify', () => {
  const key = ecKey();
  const jws = new JwsSigner(key).signWithKid('https://ca.test/x', 'n', 'k', '{"status":"deactivated"}');
  const tampered = { ...jws, payload: Buffer.from('{"status":"valid"}').toString('base64url') };
  assert.equal(verifies(tampered, createPublicKey(key), 'sha256'), false);
});

test('the inner key-change JWS has no nonce', () => {
  const jws = new JwsSigner(ecKey()).signWithJwk('https://ca.test/key-change', undefined, '{}');
  assert.equal((decode(jws.protected) as { nonce?: string }).nonce, undefined);
});

test('thumbprint matches the RFC 7638 §3.1 example', () => {
  const n =
    '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64' +
    'tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91C' +
    'bOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw';
  const key = createPublicKey({ key: { kty: 'RSA', n, e: 'AQAB' }, format: 'jwk' });
  assert.equal(jwkThumbprint(key), 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
});

test('key authorization and dns-01 TXT value (RFC 8555 §8.1, §8.4)', async (t) => {
  const key = ecKey();
  const client = new AcmeClient({ directoryUrl: 'https://ca.invalid/dir', accountKey: key });
  t.after(() => client.close());
  const thumbprint = jwkThumbprint(key);
  assert.equal(client.thumbprint(), thumbprint);
  assert.equal(client.keyAuthorization('tok'), `tok.${thumbprint}`);
  const expected = createHash('sha256').update(`tok.${thumbprint}`).digest('base64url');
  assert.equal(client.dns01TxtValue('tok'), expected);
  assert.equal(expected.length, 43, 'base64url without padding');
});

test('EAB is an HS256 JWS over the account JWK with the CA kid and newAccount URL', () => {
  const hmacKey = Buffer.from('0123456789abcdef0123456789abcdef').toString('base64url');
  const signer = new JwsSigner(ecKey());
  const eab = externalAccountBinding({ kid: 'kid-1', hmacKey }, 'https://ca.test/new-acct', signer.jwkJson);
  assert.deepEqual(decode(eab.protected), { alg: 'HS256', kid: 'kid-1', url: 'https://ca.test/new-acct' });
  assert.deepEqual(decode(eab.payload), JSON.parse(signer.jwkJson));
  const mac = createHmac('sha256', Buffer.from(hmacKey, 'base64url'))
    .update(`${eab.protected}.${eab.payload}`)
    .digest('base64url');
  assert.equal(eab.signature, mac);
});

test('an empty EAB key is refused without echoing it', () => {
  assert.throws(
    () => externalAccountBinding({ kid: 'k', hmacKey: '' }, 'https://ca.test/a', '{}'),
    /EAB HMAC key is empty/,
  );
});

test('unsupported keys are refused with what to use instead', () => {
  const ed = generateKeyPairSync('ed25519').privateKey;
  assert.throws(() => new JwsSigner(ed), /unsupported ACME account key \(ed25519\): use an EC P-256/);
  const p521 = generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey;
  assert.throws(() => new JwsSigner(p521), /secp521r1/);
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
  assert.throws(() => new JwsSigner(small), /RSA 2048\+/);
  assert.throws(() => new JwsSigner(createPublicKey(ecKey())), /must be a private key/);
});

test('DER ECDSA signatures become r||s, with short and sign-padded integers', () => {
  const r = Buffer.alloc(31, 0x11); // leading zero byte dropped by DER
  const s = Buffer.concat([Buffer.from([0x00]), Buffer.alloc(32, 0xff)]); // high bit set: DER pads with 0x00
  const der = Buffer.concat([Buffer.from([0x30, 2 + 31 + 2 + 33, 0x02, 31]), r, Buffer.from([0x02, 33]), s]);
  const raw = derToRawEcdsa(der, 32);
  assert.equal(raw.length, 64);
  assert.deepEqual(raw.subarray(0, 32), Buffer.concat([Buffer.from([0]), r]));
  assert.deepEqual(raw.subarray(32), Buffer.alloc(32, 0xff));
});

test('converted signatures verify as IEEE P1363 for many random messages', () => {
  for (const [curve, digest, size] of [
    ['P-256', 'sha256', 32],
    ['P-384', 'sha384', 48],
  ] as const) {
    const key = ecKey(curve);
    const pub = createPublicKey(key);
    for (let i = 0; i < 300; i++) {
      const data = Buffer.from(`message ${i}`);
      const raw = derToRawEcdsa(sign(digest, data, key), size);
      assert.ok(verify(digest, data, { key: pub, dsaEncoding: 'ieee-p1363' }, raw), `${curve} #${i}`);
    }
  }
});
