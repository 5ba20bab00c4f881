import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { identifiersFromNames, validateDnsName } from '../../src/pki/index.ts';

describe('validateDnsName', () => {
  test('accepts host names, wildcards as the whole leftmost label, and a trailing dot', () => {
    for (const name of [
      'example.com',
      'a-b.example.com',
      '*.example.com',
      'xn--bcher-kva.example',
      'EXAMPLE.com.',
      'localhost',
      `${'a'.repeat(63)}.com`,
    ]) {
      assert.equal(validateDnsName(name), null, name);
    }
  });

  const refused: [string, RegExp][] = [
    ['', /the name is empty/],
    ['.', /the name is empty/],
    [`${'abcdefgh.'.repeat(28)}com`, /is 255 characters long; at most 253 are allowed/],
    [`${'a'.repeat(64)}.com`, /is 64 characters long; at most 63 are allowed/],
    ['exa mple.com', /contains " "; only letters, digits and hyphens/],
    ['under_score.example.com', /contains "_"/],
    ['bücher.example', /non-ASCII characters; use its IDNA form \(xn--\.\.\.\)/],
    ['a.*.b', /only allowed as the whole leftmost label/],
    ['*', /a wildcard needs a domain after it/],
    ['*.', /a wildcard needs a domain after it/],
    ['*foo.example.com', /only allowed as the whole leftmost label/],
    ['-lead.example.com', /starts or ends with a hyphen/],
    ['trail-.example.com', /starts or ends with a hyphen/],
    ['a..example.com', /empty label/],
    ['.example.com', /empty label/],
    ['192.0.2.1', /all digits; an IP address is not a DNS name/],
  ];
  for (const [name, reason] of refused) {
    test(`refuses ${JSON.stringify(name.length > 40 ? `${name.slice(0, 20)}…(${name.length})` : name)}`, () => {
      const result = validateDnsName(name);
      assert.notEqual(result, null);
      assert.match(result ?? '', reason);
    });
  }
});

describe('identifiersFromNames', () => {
  test('classifies IP literals and normalizes both kinds', () => {
    assert.deepEqual(
      identifiersFromNames([
        ' WWW.Example.COM. ',
        '*.example.com',
        '192.0.2.1',
        '2001:DB8:0:0:0:0:0:1',
        '[::1]',
        '::ffff:192.0.2.9',
      ]),
      [
        { type: 'dns', value: 'www.example.com' },
        { type: 'dns', value: '*.example.com' },
        { type: 'ip', value: '192.0.2.1' },
        { type: 'ip', value: '2001:db8::1' },
        { type: 'ip', value: '::1' },
        { type: 'ip', value: '::ffff:192.0.2.9' },
      ],
    );
  });

  test('drops duplicates after normalization, keeping the first position', () => {
    assert.deepEqual(
      identifiersFromNames(['b.example', 'A.example', 'B.EXAMPLE.', '2001:db8::1', '2001:db8:0::1']),
      [
        { type: 'dns', value: 'b.example' },
        { type: 'dns', value: 'a.example' },
        { type: 'ip', value: '2001:db8::1' },
      ],
    );
  });

  test('things that only look like addresses stay DNS names (and then fail validation)', () => {
    const [octal, zoned, short] = identifiersFromNames(['010.0.0.1', 'fe80::1%eth0', '1.2.3']);
    assert.deepEqual(octal, { type: 'dns', value: '010.0.0.1' });
    assert.equal(zoned.type, 'dns');
    assert.equal(short.type, 'dns');
    assert.notEqual(validateDnsName(octal.value), null);
    assert.notEqual(validateDnsName(zoned.value), null);
  });
});
