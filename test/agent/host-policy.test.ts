// What a host allows, applied to an assigned target before anything is written: names resolved
// through its own lists, the directory under an allowed prefix once symlinks and `..` are resolved,
// the TLS check only to its own addresses unless --allow-verify says otherwise.
import assert from 'node:assert/strict';
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveTarget } from '../../src/agent/host-policy.ts';
import type { Assignment } from '../../src/agent/server-client.ts';
import { tempDir } from '../rig/tmp.ts';

function assignment(fields: Partial<Assignment>): Assignment {
  return { id: 'dpt_x', certificate: 'www.example.test', names: ['www.example.test'], to: '/nowhere', format: 'pem', reload: null, deployHook: null, verify: [], verifyTimeoutMs: 30_000, version: null, ...fields };
}

test('names become the host’s commands; anything else is refused with every reason at once', async (t) => {
  const dir = await tempDir('certkeep-host-policy-');
  t.after(dir.remove);
  const allowed = join(dir.path, 'tls');
  await mkdir(join(dir.path, 'outside'), { recursive: true });
  await mkdir(allowed, { recursive: true });
  await symlink(join(dir.path, 'outside'), join(allowed, 'escape'));
  const policy = { allowReload: new Map([['nginx', 'nginx -s reload']]), allowHook: new Map<string, string>(), allowDir: [allowed], allowVerify: [] };

  const ok = await resolveTarget(policy, assignment({ to: join(allowed, 'www'), reload: 'nginx', verify: ['127.0.0.1:443'] }));
  assert.ok(ok.ok);
  assert.equal(ok.target.reload, 'nginx -s reload');
  assert.equal(ok.target.directory, join(allowed, 'www'));

  const cases: [Partial<Assignment>, RegExp][] = [
    [{ to: join(allowed, 'www'), reload: 'apache' }, /the reload "apache" is not one this host allows \(--allow-reload apache=CMD\)/],
    [{ to: join(allowed, 'www'), deployHook: 'nginx' }, /the deploy hook "nginx" is not one this host allows/],
    [{ to: join(allowed, '..', 'outside', 'www') }, /is outside the directories this host allows/],
    [{ to: join(allowed, 'escape', 'www') }, new RegExp(`\\(${join(dir.path, 'outside', 'www')}\\) is outside`)],
    [{ to: allowed }, /is outside the directories/],
    [{ to: join(allowed, 'www'), verify: ['192.0.2.7:443'] }, /may not connect to 192\.0\.2\.7:443: by default only this host's own addresses/],
  ];
  for (const [fields, reason] of cases) {
    const refused = await resolveTarget(policy, assignment(fields));
    assert.ok(!refused.ok, JSON.stringify(fields));
    assert.match(refused.reason, /^refused by the host: /);
    assert.match(refused.reason, reason);
  }
  const all = await resolveTarget(policy, assignment({ to: '/etc/passwd.d', reload: 'x', deployHook: 'y' }));
  assert.ok(!all.ok);
  assert.equal(all.reason.split('; ').length, 3, 'each reason is told');
  const none = await resolveTarget({ ...policy, allowDir: [] }, assignment({ to: join(allowed, 'www') }));
  assert.ok(!none.ok);
  assert.match(none.reason, /this host allows no directory \(--allow-dir PREFIX\)/);
  const listed = { ...policy, allowVerify: ['192.0.2.7:443'] };
  assert.ok((await resolveTarget(listed, assignment({ to: join(allowed, 'www'), verify: ['192.0.2.7:443'] }))).ok);
  const notListed = await resolveTarget(listed, assignment({ to: join(allowed, 'www'), verify: ['127.0.0.1:443'] }));
  assert.ok(!notListed.ok, 'with --allow-verify, only what it lists');
});
