import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addressText, parseAddress, splitAddress } from '../src/address.ts';

test('addresses read as HOST:PORT, [v6]:PORT, and with a default port also without one', () => {
  assert.deepEqual(parseAddress('127.0.0.1:8443', 'verify'), { host: '127.0.0.1', port: 8443 });
  assert.deepEqual(parseAddress(' www.example.test:443 ', 'verify'), { host: 'www.example.test', port: 443 });
  assert.deepEqual(parseAddress('[::1]:443', 'verify'), { host: '::1', port: 443 });
  assert.deepEqual(parseAddress('ns1.example.test', '--resolver', 53), {
    host: 'ns1.example.test',
    port: 53,
  });
  assert.deepEqual(splitAddress('2001:db8::1', 53), { host: '2001:db8::1', port: 53 });
  assert.equal(addressText({ host: '::1', port: 53 }), '[::1]:53');
  assert.equal(addressText({ host: '127.0.0.1', port: 53 }), '127.0.0.1:53');
});

test('a malformed address is refused naming the field, the form and an example', () => {
  for (const text of [
    'localhost',
    '127.0.0.1:0',
    '127.0.0.1:65536',
    'a:b:c',
    '[nope]:443',
    '::1',
    'host:8x',
    ':443',
  ]) {
    assert.throws(
      () => parseAddress(text, 'verify'),
      (error: Error & { field?: string }) => {
        assert.equal(error.field, 'verify');
        assert.match(
          error.message,
          /^verify: ".*" must be HOST:PORT, IPv6 as \[ADDRESS\]:PORT, e\.g\. 127\.0\.0\.1:/,
        );
        return true;
      },
      text,
    );
  }
  assert.throws(() => parseAddress('x:y', '--listen'), { message: /^--listen: "x:y" must be HOST:PORT/ });
  assert.throws(() => splitAddress('host:port', 53), { message: 'port must be 1-65535' });
});
