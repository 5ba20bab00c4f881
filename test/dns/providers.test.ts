import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createProvider, getProviderDefinition, providers } from '../../src/dns/providers/index.ts';

test('rfc2136 is registered by name', () => {
  assert.equal(providers.get('rfc2136')?.name, 'rfc2136');
  assert.equal(getProviderDefinition('rfc2136').secrets.includes('tsigSecret'), true);
});

test('an unknown provider name lists the known ones', () => {
  assert.throws(
    () => getProviderDefinition('route53'),
    /unknown DNS provider "route53"; known providers: .*rfc2136/,
  );
});

test('missing required settings are named with what they are for', () => {
  assert.throws(
    () => createProvider('rfc2136', { zone: 'example.test', settings: {} }),
    /rfc2136 zone example\.test: missing setting "server" \(primary server/,
  );
});

test('createProvider returns a working provider object', () => {
  const provider = createProvider('rfc2136', { zone: 'example.test', settings: { server: '127.0.0.1:53' } });
  assert.equal(typeof provider.present, 'function');
  assert.equal(typeof provider.cleanup, 'function');
});
