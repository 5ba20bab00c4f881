import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { SecretBox } from '../../src/store/secret-box.ts';

const box = new SecretBox(randomBytes(32));
const PLAINTEXT = '-----BEGIN PRIVATE KEY----- top secret';
const TOKEN = /^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/;

function assertOpaqueError(fn: () => unknown, pattern: RegExp) {
  assert.throws(fn, (error: Error) => {
    assert.equal(error.name, 'StoreError');
    assert.match(error.message, pattern);
    assert.doesNotMatch(error.message, /top secret|PRIVATE KEY/);
    return true;
  });
}

test('strings and bytes round-trip, each sealing with a fresh IV', () => {
  const token = box.encrypt(PLAINTEXT, 'acme_accounts.key_enc:acc_1');
  assert.match(token, TOKEN);
  assert.notEqual(box.encrypt(PLAINTEXT, 'acme_accounts.key_enc:acc_1'), token);
  assert.equal(box.decryptString(token, 'acme_accounts.key_enc:acc_1'), PLAINTEXT);

  const bytes = randomBytes(100);
  assert.deepEqual(box.decrypt(box.encrypt(bytes)), bytes);
  assert.equal(box.decryptString(box.encrypt('')), '');
});

test('a tampered ciphertext, IV or tag does not open', () => {
  const token = box.encrypt(PLAINTEXT);
  const [version, iv, tag, ciphertext] = token.split('.');
  const flip = (part: string) => (part[0] === 'A' ? 'B' : 'A') + part.slice(1);
  for (const altered of [
    [version, iv, tag, flip(ciphertext)],
    [version, flip(iv), tag, ciphertext],
    [version, iv, flip(tag), ciphertext],
  ]) {
    assertOpaqueError(
      () => box.decrypt(altered.join('.')),
      /cannot decrypt a stored secret: the master key differs/,
    );
  }
});

test('a ciphertext bound to one record does not open for another, nor without its AAD', () => {
  const token = box.encrypt(PLAINTEXT, 'dns_zones.config_enc:zone_1');
  assertOpaqueError(
    () => box.decrypt(token, 'dns_zones.config_enc:zone_2'),
    /cannot decrypt a stored secret \(dns_zones.config_enc:zone_2\): .* belongs to another record/,
  );
  assertOpaqueError(() => box.decrypt(token), /cannot decrypt a stored secret/);
});

test('another master key cannot open the secret and says the key differs', () => {
  const token = box.encrypt(PLAINTEXT);
  const other = new SecretBox(randomBytes(32));
  assertOpaqueError(
    () => other.decrypt(token),
    /the master key differs from the one these secrets were written with/,
  );
});

test('a value that is not a sealed secret is refused without echoing it', () => {
  assertOpaqueError(() => box.decrypt('top secret'), /is not a v1\.<iv>\.<tag>\.<ciphertext> value$/);
  assertOpaqueError(() => box.decrypt('top.secret.PRIVATE KEY.x'), /is not a v1/);
  const newer = box.encrypt(PLAINTEXT).replace(/^v1/, 'v2');
  assertOpaqueError(() => box.decrypt(newer), /it is v2: a newer certkeep\?/);
  assertOpaqueError(() => box.decrypt('v1.AAAA.BBBB.CCCC'), /is not a v1/);
});

test('a master key of the wrong length is refused', () => {
  assert.throws(() => new SecretBox(randomBytes(16)), /a master key must be 32 bytes, not 16/);
});

test('deriveKey: 32 bytes per purpose, stable for one master key, different for another', () => {
  const master = randomBytes(32);
  const a = new SecretBox(master).deriveKey('download-links');
  assert.equal(a.length, 32);
  assert.deepEqual(new SecretBox(master).deriveKey('download-links'), a);
  assert.notDeepEqual(new SecretBox(master).deriveKey('webhooks'), a);
  assert.notDeepEqual(new SecretBox(randomBytes(32)).deriveKey('download-links'), a);
  assert.notDeepEqual(a, master, 'the master key itself is never handed out');
});
