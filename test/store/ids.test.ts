import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newId } from '../../src/store/ids.ts';

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';
const ID = /^[0-9a-hjkmnp-tv-z]{26}$/;

function timeOf(id: string): number {
  return [...id.slice(-26, -16)].reduce((ms, char) => ms * 32 + CROCKFORD.indexOf(char), 0);
}

test('an id is 26 lower-case Crockford base32 characters, optionally after a prefix', () => {
  assert.match(newId(), ID);
  const prefixed = newId('crt');
  assert.match(prefixed, /^crt_[0-9a-hjkmnp-tv-z]{26}$/);
});

test('ids do not repeat', () => {
  const ids = new Set(Array.from({ length: 20_000 }, () => newId()));
  assert.equal(ids.size, 20_000);
});

test('an id starts with its creation time in milliseconds, so ids sort by time', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 1_732_000_000_000 });
  const first = newId('ord');
  assert.equal(timeOf(first), 1_732_000_000_000);
  t.mock.timers.tick(1);
  const second = newId('ord');
  t.mock.timers.tick(86_400_000);
  const third = newId('ord');
  assert.deepEqual([third, first, second].sort(), [first, second, third]);
});

test('a prefix that is not lower-case letters and digits is refused', () => {
  assert.throws(() => newId('Crt'), /id prefix "Crt" must be 1-16 lower-case letters or digits/);
  assert.throws(() => newId('a/b'), /id prefix/);
  assert.throws(() => newId(''), /id prefix/);
});
