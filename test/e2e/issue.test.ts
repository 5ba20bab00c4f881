// certkeep issue/list/show/export/renew/revoke against Pebble with real HTTP-01 validation.
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openssl } from './openssl.ts';
import { type Rig, startRig, ZONE } from './harness.ts';

describe('certkeep issue over HTTP-01', () => {
  let rig: Rig;
  let rootsFile: string;
  after(() => rig?.stop());
  before(async () => {
    rig = await startRig();
    rootsFile = join(rig.dataDir, 'pebble-roots.pem');
    await writeFile(rootsFile, await rig.pebble.rootsPem());
  });

  test('one name: issued, listed, exported, chain verifies against Pebble', async () => {
    const issued = await rig.certkeep(['issue', '-d', `one.${ZONE}`, '--http-port', String(rig.httpPort), '--json']);
    assert.equal(issued.code, 0, issued.stderr);
    const result = issued.json();
    assert.equal(result.status, 'issued');
    assert.deepEqual(result.names, [`one.${ZONE}`]);
    assert.ok(Date.parse(result.notAfter) > Date.now());

    const list = await rig.certkeep(['list', '--json']);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(list.json().certificates.map((c: { name: string }) => c.name), [`one.${ZONE}`]);

    const out = join(rig.dataDir, 'out-one');
    const exported = await rig.certkeep(['export', `one.${ZONE}`, '--out', out, '--pfx-password', 's3cret']);
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal((await stat(join(out, 'privkey.pem'))).mode & 0o777, 0o600);
    const verify = await openssl(['verify', '-CAfile', rootsFile, '-untrusted', join(out, 'chain.pem'), join(out, 'cert.pem')]);
    assert.ok(verify.ok, verify.stderr);
    const fullchain = await readFile(join(out, 'fullchain.pem'), 'utf8');
    assert.equal(fullchain, (await readFile(join(out, 'cert.pem'), 'utf8')) + (await readFile(join(out, 'chain.pem'), 'utf8')));
    const keyMatches = await openssl(['x509', '-in', join(out, 'cert.pem'), '-noout', '-pubkey']);
    const keyPub = await openssl(['pkey', '-in', join(out, 'privkey.pem'), '-pubout']);
    assert.equal(keyMatches.stdout, keyPub.stdout);

    const pfx = await openssl(['pkcs12', '-in', join(out, 'cert.pfx'), '-passin', 'pass:s3cret', '-nodes']);
    assert.ok(pfx.ok, pfx.stderr);
    assert.match(pfx.stdout, /BEGIN PRIVATE KEY/);
    assert.match(pfx.stdout, /BEGIN CERTIFICATE/);
    const wrong = await openssl(['pkcs12', '-in', join(out, 'cert.pfx'), '-passin', 'pass:wrong', '-nodes']);
    assert.equal(wrong.ok, false);
  });

  test('several names with an RSA key', async () => {
    const names = [`a.${ZONE}`, `b.${ZONE}`, `c.${ZONE}`];
    const issued = await rig.certkeep(['issue', ...names.flatMap((n) => ['-d', n]), '--name', 'multi', '--key-type', 'rsa-2048', '--http-port', String(rig.httpPort), '--json']);
    assert.equal(issued.code, 0, issued.stderr);
    const out = join(rig.dataDir, 'out-multi');
    assert.equal((await rig.certkeep(['export', 'multi', '--out', out])).code, 0);
    const text = await openssl(['x509', '-in', join(out, 'cert.pem'), '-noout', '-text']);
    for (const name of names) assert.match(text.stdout, new RegExp(`DNS:${name.replaceAll('.', '\\.')}`));
    assert.match(text.stdout, /Public-Key: \(2048 bit\)/);
    assert.match(text.stdout, /rsaEncryption/);
  });

  test('an ec-p384 key', async () => {
    const issued = await rig.certkeep(['issue', '-d', `p384.${ZONE}`, '--key-type', 'ec-p384', '--http-port', String(rig.httpPort)]);
    assert.equal(issued.code, 0, issued.stderr);
    const out = join(rig.dataDir, 'out-p384');
    assert.equal((await rig.certkeep(['export', `p384.${ZONE}`, '--out', out])).code, 0);
    const text = await openssl(['x509', '-in', join(out, 'cert.pem'), '-noout', '-text']);
    assert.match(text.stdout, /secp384r1|P-384/);
  });

  test('issuing again keeps a certificate that is not due; renew --force makes a new version', async () => {
    const again = await rig.certkeep(['issue', '-d', `one.${ZONE}`, '--http-port', String(rig.httpPort), '--json']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.json().status, 'unchanged');

    const previous = (await rig.certkeep(['show', `one.${ZONE}`, '--json'])).json();
    const renewed = await rig.certkeep(['renew', `one.${ZONE}`, '--force', '--json']);
    assert.equal(renewed.code, 0, renewed.stderr);
    assert.equal(renewed.json().results[0].status, 'renewed');
    const current = (await rig.certkeep(['show', `one.${ZONE}`, '--json'])).json();
    assert.equal(current.versions.length, previous.versions.length + 1);
    assert.notEqual(current.serial, previous.serial);

    const all = await rig.certkeep(['renew', '--all', '--json']);
    assert.equal(all.code, 0, all.stderr);
    assert.ok(all.json().results.every((r: { status: string }) => r.status === 'unchanged'));
  });

  test('revoke', async () => {
    const revoked = await rig.certkeep(['revoke', 'multi', '--reason', 'superseded', '--json']);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(revoked.json().revoked, true);
    assert.equal((await rig.certkeep(['show', 'multi', '--json'])).json().state, 'revoked');
  });
});
