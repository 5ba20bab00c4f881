// --preferred-chain against Pebble with two alternate roots
// (PEBBLE_ALTERNATE_ROOTS=2): each certificate comes with three chains, one to
// each root, and the chosen one is stored, exported and kept by renewals.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { oneLine, type Rig, startRig, ZONE } from './harness.ts';
import { openssl } from './openssl.ts';
import { type Server, settledOrder, startServer } from './server.ts';

/** The CN of a root, as the chains' top certificates name their issuer. */
function commonName(pem: string): string {
  return /(?:^|\n)CN=([^\n]+)/.exec(new X509Certificate(pem).subject)![1];
}

/** The issuer CN of the last certificate of a PEM chain. */
function topIssuer(chainPem: string): string {
  const last = chainPem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g)!.at(-1)!;
  return /(?:^|\n)CN=([^\n]+)/.exec(new X509Certificate(last).issuer)![1];
}

describe('choosing among the CA’s chains', () => {
  let rig: Rig;
  let roots: { pem: string; name: string; file: string }[];
  before(async () => {
    rig = await startRig({ pebble: { env: { PEBBLE_ALTERNATE_ROOTS: '2' } } });
    roots = [];
    for (const index of [0, 1, 2]) {
      const pem = await rig.pebble.rootsPem(index);
      const file = join(rig.dataDir, `root-${index}.pem`);
      await writeFile(file, pem);
      roots.push({ pem, name: commonName(pem), file });
    }
    assert.equal(new Set(roots.map((r) => r.name)).size, 3, 'three roots with three names');
  });
  after(() => rig?.stop());

  async function exportedChain(name: string): Promise<{ chain: string; dir: string }> {
    const dir = join(rig.dataDir, `out-${name}-${Date.now()}`);
    const exported = await rig.certkeep(['export', name, '--out', dir]);
    assert.equal(exported.code, 0, exported.stderr);
    return { chain: await readFile(join(dir, 'fullchain.pem'), 'utf8'), dir };
  }

  const verifies = async (dir: string, rootFile: string) =>
    (await openssl(['verify', '-CAfile', rootFile, '-untrusted', join(dir, 'chain.pem'), join(dir, 'cert.pem')])).ok;

  test('--preferred-chain names an alternate root: that chain is stored, verifies against that root only, and renewals keep it', async () => {
    const name = `chain2.${ZONE}`;
    const issued = await rig.certkeep(['issue', '-d', name, '--preferred-chain', roots[2].name, '--http-port', String(rig.httpPort), '--json']);
    assert.equal(issued.code, 0, issued.stderr);
    const first = await exportedChain(name);
    assert.equal(topIssuer(first.chain), roots[2].name);
    assert.ok(await verifies(first.dir, roots[2].file), 'verifies against root 2');
    assert.ok(!(await verifies(first.dir, roots[0].file)), 'not against the default root');
    const show = (await rig.certkeep(['show', name, '--json'])).json();
    assert.equal(show.preferredChain, roots[2].name);

    const renewed = await rig.certkeep(['renew', name, '--force', '--json']);
    assert.equal(renewed.code, 0, renewed.stderr);
    const second = await exportedChain(name);
    assert.notEqual(second.chain, first.chain, 'a new certificate');
    assert.equal(topIssuer(second.chain), roots[2].name, 'from the same root');
  });

  test('without --preferred-chain, or naming a root the CA does not offer: the CA’s default chain', async () => {
    for (const [name, extra] of [
      [`default.${ZONE}`, []],
      [`nomatch.${ZONE}`, ['--preferred-chain', 'No Such Root CA']],
      [`lowercase.${ZONE}`, ['--preferred-chain', roots[1].name.toLowerCase()]],
    ] as const) {
      const issued = await rig.certkeep(['issue', '-d', name, ...extra, '--http-port', String(rig.httpPort)]);
      assert.equal(issued.code, 0, issued.stderr);
      const { chain, dir } = await exportedChain(name);
      assert.equal(topIssuer(chain), roots[0].name, `${name}: the default chain (names match exactly, as certbot and lego match them)`);
      assert.ok(await verifies(dir, roots[0].file));
    }
  });

  test('an empty --preferred-chain: exit 2 naming the option; nothing stored', async () => {
    const result = await rig.certkeep(['issue', '-d', `empty.${ZONE}`, '--preferred-chain', '  ', '--http-port', String(rig.httpPort)]);
    assert.equal(result.code, 2);
    assert.match(oneLine(result.stderr), /--preferred-chain: give the issuer CN/);
    assert.equal((await rig.certkeep(['show', `empty.${ZONE}`])).code, 1);
  });

  describe('the native API’s preferredChain', () => {
    let server: Server;
    let tenant: { id: string; apiKey: string; readKey: string };
    before(async () => {
      server = await startServer(rig, { dataDir: join(rig.dataDir, 'server') });
      tenant = await server.subscription('chains tenant');
    });
    after(async () => {
      assert.equal(await server?.stop(), 0);
    });

    test('the certificate is issued with the chain to the named root', async () => {
      const name = `api-chain.${ZONE}`;
      const created = await server.call('POST', '/api/v1/certificates', { key: tenant.apiKey, body: { names: [name], preferredChain: roots[1].name } });
      const body = await created.json();
      assert.equal(created.status, 202, JSON.stringify(body));
      const done = await settledOrder(server, body.order.id, tenant.readKey);
      assert.equal(done.status, 'valid', JSON.stringify(done));
      const chain = await server.call('GET', `/api/v1/certificates/${name}/files/fullchain`, { key: tenant.readKey });
      assert.equal(topIssuer(await chain.text()), roots[1].name);
    });

    test('an empty or blank preferredChain is a 400 naming the field', async () => {
      for (const preferredChain of ['', '   ']) {
        const refused = await server.call('POST', '/api/v1/certificates', { key: tenant.apiKey, body: { names: [`bad-chain.${ZONE}`], preferredChain } });
        const problem = await refused.json();
        assert.equal(refused.status, 400, JSON.stringify(problem));
        assert.match(JSON.stringify(problem), /preferredChain/);
      }
    });
  });
});
