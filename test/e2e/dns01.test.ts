// DNS-01 through real DNS servers: BIND over RFC 2136 with TSIG, an exec hook
// calling nsupdate, and propagation checked on the zone's server, not slept on.
import assert from 'node:assert/strict';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { queryDns } from '../../src/dns/query.ts';
import { freePort } from '../../src/rig/ports.ts';
import { oneLine, type Rig, startRig, ZONE } from './harness.ts';

async function txtAt(server: string, name: string): Promise<string[]> {
  const response = await queryDns(server, name, 'TXT', { timeoutMs: 2000 });
  return response.answers.filter((a) => a.type === 'TXT').map((a) => String((a.data as Buffer[])[0] ?? a.data));
}

describe('DNS-01 with BIND (RFC 2136 + TSIG)', () => {
  let rig: Rig;
  let dns: (args: string[], options?: { dataDir?: string; env?: Record<string, string> }) => ReturnType<Rig['certkeep']>;
  after(() => rig?.stop());
  before(async () => {
    rig = await startRig();
    dns = (args, options) => rig.certkeep([...args, '--resolver', rig.bind.address], options);
    const added = await dns([
      'zone', 'add', ZONE, '--provider', 'rfc2136', '--server', rig.bind.address,
      '--tsig-key', rig.bind.tsig.name, '--tsig-secret', rig.bind.tsig.secret, '--tsig-algorithm', rig.bind.tsig.algorithm,
      '--nameserver', rig.bind.address, '--json',
    ]);
    assert.equal(added.code, 0, added.stderr);
    assert.equal(added.json().settings.tsigSecret, '(set)', 'the secret is never printed back');
  });

  test('apex and wildcard in one certificate; the TXT records are gone afterwards', async () => {
    const result = await dns(['issue', '-d', `w.${ZONE}`, '-d', `*.w.${ZONE}`, '--challenge', 'dns-01', '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.json().names.sort(), [`*.w.${ZONE}`, `w.${ZONE}`]);
    assert.deepEqual(await txtAt(rig.bind.address, `_acme-challenge.w.${ZONE}`), []);
  });

  test('several names', async () => {
    const result = await dns(['issue', '-d', `m1.${ZONE}`, '-d', `m2.${ZONE}`, '-d', `m3.${ZONE}`, '--name', 'dns-multi', '--challenge', 'dns-01']);
    assert.equal(result.code, 0, result.stderr);
  });

  test('zone list shows no secret; zone test reports the time', async () => {
    const list = await dns(['zone', 'list']);
    assert.equal(list.code, 0, list.stderr);
    assert.ok(!list.stdout.includes(rig.bind.tsig.secret));
    const tested = await dns(['zone', 'test', ZONE, '--json']);
    assert.equal(tested.code, 0, tested.stderr);
    assert.ok(tested.json().seconds < 10);
  });

  test('a wrong TSIG secret → exit 1 naming the server and its answer; nothing left behind', async () => {
    const dataDir = join(rig.dataDir, 'wrong-tsig');
    const wrong = Buffer.alloc(32, 7).toString('base64');
    const added = await dns(['zone', 'add', ZONE, '--provider', 'rfc2136', '--server', rig.bind.address, '--tsig-key', rig.bind.tsig.name, '--tsig-secret', wrong, '--tsig-algorithm', rig.bind.tsig.algorithm], { dataDir });
    assert.equal(added.code, 0, added.stderr);
    const result = await dns(['issue', '-d', `bad.${ZONE}`, '--challenge', 'dns-01'], { dataDir });
    assert.equal(result.code, 1);
    const line = oneLine(result.stderr);
    assert.match(line, /NOTAUTH|BADSIG/);
    assert.ok(line.includes(rig.bind.address));
    assert.ok(!line.includes(wrong), 'the secret is not printed');
    assert.deepEqual(await txtAt(rig.bind.address, `_acme-challenge.bad.${ZONE}`), []);
  });

  test('a name in no managed zone → exit 1 saying how to add one', async () => {
    const result = await dns(['issue', '-d', 'elsewhere.invalid-zone.test', '--challenge', 'dns-01']);
    assert.equal(result.code, 1);
    assert.match(oneLine(result.stderr), /certkeep zone add/);
  });

  test('propagation that never happens → exit 1 naming the server that never saw the record', async () => {
    const dataDir = join(rig.dataDir, 'silent-ns');
    const silent = `127.0.0.1:${await freePort()}`;
    const t = rig.bind.tsig;
    await dns(['zone', 'add', ZONE, '--provider', 'rfc2136', '--server', rig.bind.address, '--tsig-key', t.name, '--tsig-secret', t.secret, '--tsig-algorithm', t.algorithm, '--nameserver', silent], { dataDir });
    const result = await dns(['issue', '-d', `slow.${ZONE}`, '--challenge', 'dns-01', '--dns-timeout', '1'], { dataDir });
    assert.equal(result.code, 1);
    assert.ok(oneLine(result.stderr).includes(silent), result.stderr);
    assert.deepEqual(await txtAt(rig.bind.address, `_acme-challenge.slow.${ZONE}`), [], 'cleaned up after the failure');
  });

  test('an unreachable DNS server → exit 1 naming it', async () => {
    const dataDir = join(rig.dataDir, 'unreachable');
    const closed = `127.0.0.1:${await freePort()}`;
    await dns(['zone', 'add', ZONE, '--provider', 'rfc2136', '--server', closed], { dataDir });
    const result = await dns(['issue', '-d', `gone.${ZONE}`, '--challenge', 'dns-01'], { dataDir });
    assert.equal(result.code, 1);
    assert.ok(oneLine(result.stderr).includes(closed), result.stderr);
  });

  test('killed after the TXT records were written: the re-run finishes and removes them', async () => {
    const name = `crashdns.${ZONE}`;
    const killed = await dns(['issue', '-d', name, '--challenge', 'dns-01'], { env: { CERTKEEP_CRASH_AFTER_STEP: 'provisioned' } });
    assert.equal(killed.signal, 'SIGKILL');
    assert.equal((await txtAt(rig.bind.address, `_acme-challenge.${name}`)).length, 1, 'the killed run left its record');
    const resumed = await dns(['issue', '-d', name, '--challenge', 'dns-01', '--json']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(resumed.json().status, 'resumed');
    assert.deepEqual(await txtAt(rig.bind.address, `_acme-challenge.${name}`), []);
  });

  test("a zone the DNS server does not serve → exit 1 with the server's answer", async () => {
    const dataDir = join(rig.dataDir, 'not-served');
    const t = rig.bind.tsig;
    await dns(['zone', 'add', 'nothere.test', '--provider', 'rfc2136', '--server', rig.bind.address, '--tsig-key', t.name, '--tsig-secret', t.secret, '--tsig-algorithm', t.algorithm], { dataDir });
    const result = await dns(['issue', '-d', 'www.nothere.test', '--challenge', 'dns-01'], { dataDir });
    assert.equal(result.code, 1);
    const line = oneLine(result.stderr);
    assert.ok(line.includes(rig.bind.address), line);
    assert.match(line, /NOTAUTH|NOTZONE|REFUSED|SERVFAIL/);
  });

  test('exec provider: a script that calls nsupdate', async () => {
    const dataDir = join(rig.dataDir, 'exec');
    const t = rig.bind.tsig;
    const [host, port] = rig.bind.address.split(':');
    const script = join(rig.dataDir, 'hook.sh');
    await writeFile(
      script,
      [
        '#!/bin/sh',
        'set -e',
        'case "$1" in present) op=add ;; cleanup) op=delete ;; *) exit 2 ;; esac',
        `printf 'server ${host} ${port}\\nupdate %s %s 60 TXT "%s"\\nsend\\n' "$op" "$2" "$3" | nsupdate -y '${t.algorithm}:${t.name}:${t.secret}'`,
        '',
      ].join('\n'),
    );
    await chmod(script, 0o755);
    assert.equal((await dns(['zone', 'add', ZONE, '--provider', 'exec', '--command', script, '--nameserver', rig.bind.address], { dataDir })).code, 0);
    const result = await dns(['issue', '-d', `hook.${ZONE}`, '--challenge', 'dns-01'], { dataDir });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await txtAt(rig.bind.address, `_acme-challenge.hook.${ZONE}`), []);
  });
});
