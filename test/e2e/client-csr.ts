// What a client of the compatibility APIs brings: a CSR made with openssl for
// the names it wants (the first is the CN), and the TXT records it is told to place.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openssl } from '../pki/openssl.ts';

export type KeyKind = 'rsa2048' | 'rsa1024' | 'ec256';

const KEY_ARGS: Record<KeyKind, string[]> = {
  rsa2048: ['-newkey', 'rsa:2048'],
  rsa1024: ['-newkey', 'rsa:1024'],
  ec256: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
};

/** An openssl-made CSR for `names` and its key, written under `dir`. */
export async function clientCsr(dir: string, kind: KeyKind, names: string[]): Promise<{ csr: string; key: string }> {
  const base = join(dir, randomUUID());
  await openssl([
    'req',
    '-new',
    ...KEY_ARGS[kind],
    '-nodes',
    '-keyout',
    `${base}.key`,
    '-out',
    `${base}.csr`,
    '-subj',
    `/C=DE/O=Example/CN=${names[0]}`,
    '-addext',
    `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`,
  ]);
  return { csr: await readFile(`${base}.csr`, 'utf8'), key: await readFile(`${base}.key`, 'utf8') };
}

/** The TXT records an authentication list asks for: `_acme-challenge.example.com. 300 IN TXT "value"`. */
export function txtRecords(authentication: { dns?: string }[]): { fqdn: string; value: string }[] {
  return authentication.map(({ dns }) => {
    const match = /^(\S+)\. 300 IN TXT "([A-Za-z0-9_-]+)"$/.exec(dns ?? '');
    assert.ok(match, `a zone-file TXT record: ${dns}`);
    return { fqdn: match[1], value: match[2] };
  });
}
