// certkeep install-systemd, run as a user would: the unit files it writes, what
// they run and how they are sandboxed, checked by `systemd-analyze verify` where
// it is installed.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { chmod, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { oneLine, runCli } from './harness.ts';
import { tempDir } from '../rig/tmp.ts';

const CLI = new URL('../../src/main.ts', import.meta.url).pathname;
const CERTKEEP = `${process.execPath} ${CLI}`;

async function unitDir(t: TestContext): Promise<string> {
  const dir = await tempDir('certkeep-units-');
  t.after(dir.remove);
  return dir.path;
}

/** A unit file as section -> key -> values (a key may repeat); comments left out. */
async function readUnit(path: string): Promise<Map<string, Map<string, string[]>>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const line of (await readFile(path, 'utf8')).split('\n')) {
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1], current);
    } else if (line && !line.startsWith('#')) {
      const at = line.indexOf('=');
      assert.ok(current && at > 0, `"${line}" is a setting inside a section`);
      current.set(line.slice(0, at), [...(current.get(line.slice(0, at)) ?? []), line.slice(at + 1)]);
    }
  }
  return sections;
}

function setting(unit: Map<string, Map<string, string[]>>, section: string, key: string): string | undefined {
  const values = unit.get(section)?.get(key);
  assert.ok(!values || values.length === 1, `${key} is set once`);
  return values?.[0];
}

const hasSystemdAnalyze = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v systemd-analyze'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** `systemd-analyze verify`: exit 0 and no complaint about these units (it warns on stderr and still exits 0). */
async function verify(t: TestContext, files: string[]): Promise<void> {
  if (!hasSystemdAnalyze) {
    t.diagnostic('systemd-analyze is not installed: the unit files were not verified by systemd');
    return;
  }
  const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile('systemd-analyze', ['verify', '--man=no', ...files], (error, _stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stderr }));
  });
  const complaints = stderr.split('\n').filter((line) => line.includes('certkeep'));
  assert.deepEqual(complaints, [], 'systemd-analyze verify finds nothing wrong');
  assert.equal(code, 0, stderr);
}

test('writes a renewal service and a twice-daily timer that systemd accepts', async (t) => {
  const dir = await unitDir(t);
  const result = await runCli(['--data-dir', '/var/lib/certkeep', '--ca', 'https://acme.example/directory', 'install-systemd', '--dir', dir], {});
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /systemctl daemon-reload && systemctl enable --now certkeep-renew\.timer\n/);
  assert.match(result.stderr, /create \/var\/lib\/certkeep before the units run/);
  assert.deepEqual((await readdir(dir)).sort(), ['certkeep-renew.service', 'certkeep-renew.timer'], 'no temporary files left');

  const service = await readUnit(join(dir, 'certkeep-renew.service'));
  assert.equal(setting(service, 'Service', 'Type'), 'oneshot');
  assert.equal(setting(service, 'Service', 'ExecStart'), `${CERTKEEP} --data-dir /var/lib/certkeep --ca https://acme.example/directory renew --all`);
  const hardening = { NoNewPrivileges: 'yes', ProtectSystem: 'strict', ReadWritePaths: '/var/lib/certkeep', PrivateTmp: 'yes', ProtectHome: 'read-only' };
  for (const [key, value] of Object.entries(hardening)) assert.equal(setting(service, 'Service', key), value, key);
  assert.equal(setting(service, 'Service', 'User'), undefined, 'root unless --user');
  assert.equal(setting(service, 'Service', 'AmbientCapabilities'), undefined, 'root needs no capabilities granted');

  const timer = await readUnit(join(dir, 'certkeep-renew.timer'));
  assert.equal(setting(timer, 'Timer', 'OnCalendar'), '*-*-* 00,12:00:00');
  assert.equal(setting(timer, 'Timer', 'RandomizedDelaySec'), '1h');
  assert.equal(setting(timer, 'Timer', 'Persistent'), 'true');
  assert.equal(setting(timer, 'Install', 'WantedBy'), 'timers.target');

  for (const name of await readdir(dir)) assert.equal((await stat(join(dir, name))).mode & 0o777, 0o644, name);
  await verify(t, [join(dir, 'certkeep-renew.service'), join(dir, 'certkeep-renew.timer')]);
});

test('--serve writes certkeep.service, allowed to bind port 80, and no timer (the server renews); --json lists the files', async (t) => {
  const dir = await unitDir(t);
  const result = await runCli(['--data-dir', '/var/lib/certkeep', '--json', 'install-systemd', '--dir', dir, '--serve'], {});
  assert.equal(result.code, 0, result.stderr);
  const files = [join(dir, 'certkeep.service')];
  assert.deepEqual(result.json(), { files });
  assert.deepEqual(await readdir(dir), ['certkeep.service'], 'no renewal timer beside the server: both would renew the same store');
  const human = await runCli(['--data-dir', '/var/lib/certkeep', 'install-systemd', '--dir', dir, '--serve', '--force'], {});
  assert.match(human.stderr, /no certkeep-renew\.timer: the server's scheduler renews/);
  assert.match(human.stdout, /systemctl enable --now certkeep\.service$/m);

  const serve = await readUnit(join(dir, 'certkeep.service'));
  assert.equal(setting(serve, 'Service', 'ExecStart'), `${CERTKEEP} --data-dir /var/lib/certkeep serve`);
  assert.equal(setting(serve, 'Service', 'Restart'), 'on-failure');
  assert.equal(setting(serve, 'Service', 'AmbientCapabilities'), 'CAP_NET_BIND_SERVICE', "serve answers HTTP-01 on port 80 by default");
  assert.equal(setting(serve, 'Service', 'ReadWritePaths'), '/var/lib/certkeep');
  assert.equal(setting(serve, 'Service', 'ProtectSystem'), 'strict');
  assert.equal(setting(serve, 'Install', 'WantedBy'), 'multi-user.target');
  await verify(t, files);
});

test('certkeep.service on high ports is granted no capability; its addresses are passed on', async (t) => {
  const dir = await unitDir(t);
  const args = ['--listen', '127.0.0.1:8443', '--http-challenge-listen', '127.0.0.1:8402'];
  const result = await runCli(['--data-dir', '/var/lib/certkeep', 'install-systemd', '--dir', dir, '--serve', ...args], {});
  assert.equal(result.code, 0, result.stderr);
  const serve = await readUnit(join(dir, 'certkeep.service'));
  assert.equal(setting(serve, 'Service', 'ExecStart'), `${CERTKEEP} --data-dir /var/lib/certkeep serve ${args.join(' ')}`);
  assert.equal(setting(serve, 'Service', 'AmbientCapabilities'), undefined);

  const misplaced = await runCli(['install-systemd', '--dir', dir, '--listen', '127.0.0.1:8443'], {});
  assert.equal(misplaced.code, 2);
  assert.match(oneLine(misplaced.stderr), /--listen .* add --serve/);
});

test('certkeep.service answering TLS-ALPN-01 on 443 and delegated DNS on 53 is allowed to bind them; the DNS flags go together', async (t) => {
  const dir = await unitDir(t);
  const args = [
    '--listen', '127.0.0.1:8443', '--http-challenge-listen', 'off', '--tls-alpn-listen', '0.0.0.0:443',
    '--dns-listen', '0.0.0.0:53', '--dns-zone', 'acme.example.com',
  ];
  const result = await runCli(['--data-dir', '/var/lib/certkeep', 'install-systemd', '--dir', dir, '--serve', ...args], {});
  assert.equal(result.code, 0, result.stderr);
  const serve = await readUnit(join(dir, 'certkeep.service'));
  assert.equal(setting(serve, 'Service', 'ExecStart'), `${CERTKEEP} --data-dir /var/lib/certkeep serve ${args.join(' ')}`);
  assert.equal(setting(serve, 'Service', 'AmbientCapabilities'), 'CAP_NET_BIND_SERVICE', 'ports 443 and 53');
  await verify(t, [join(dir, 'certkeep.service')]);

  const alpnOnly = await runCli(['install-systemd', '--dir', dir, '--force', '--serve', '--listen', '127.0.0.1:8443', '--http-challenge-listen', 'off', '--tls-alpn-listen', '0.0.0.0:443'], {});
  assert.equal(alpnOnly.code, 0, alpnOnly.stderr);
  assert.equal(setting(await readUnit(join(dir, 'certkeep.service')), 'Service', 'AmbientCapabilities'), 'CAP_NET_BIND_SERVICE', 'port 443 alone');

  const lonely = await runCli(['install-systemd', '--dir', dir, '--force', '--serve', '--dns-listen', '0.0.0.0:53'], {});
  assert.equal(lonely.code, 2);
  assert.match(oneLine(lonely.stderr), /--dns-listen and --dns-zone go together/);
  const badPort = await runCli(['install-systemd', '--dir', dir, '--force', '--serve', '--tls-alpn-listen', '0.0.0.0:99999'], {});
  assert.equal(badPort.code, 2);
  assert.match(oneLine(badPort.stderr), /--tls-alpn-listen/);
  const noServe = await runCli(['install-systemd', '--dir', dir, '--force', '--tls-alpn-listen', '0.0.0.0:443'], {});
  assert.equal(noServe.code, 2);
  assert.match(oneLine(noServe.stderr), /add --serve/);
});

test('existing files are kept unless --force, and the refusal names the file', async (t) => {
  const dir = await unitDir(t);
  const args = ['--data-dir', '/var/lib/certkeep', 'install-systemd', '--dir', dir];
  assert.equal((await runCli(args, {})).code, 0);
  const service = join(dir, 'certkeep-renew.service');
  await writeFile(service, '# edited by hand\n');

  const again = await runCli(args, {});
  assert.equal(again.code, 1);
  assert.match(oneLine(again.stderr), new RegExp(`${service} exists; pass --force to overwrite it`));
  assert.equal(await readFile(service, 'utf8'), '# edited by hand\n');

  const forced = await runCli([...args, '--force'], {});
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(await readFile(service, 'utf8'), /^ExecStart=.* renew --all$/m);
  assert.deepEqual((await readdir(dir)).sort(), ['certkeep-renew.service', 'certkeep-renew.timer']);
});

test('a data dir under /home or /tmp turns off the setting that would hide it; --writable, --user', async (t) => {
  const dir = await unitDir(t);
  const home = await runCli(['--data-dir', '/home/alice/certkeep', 'install-systemd', '--dir', dir, '--writable', '/var/www/html', '--user', 'certkeep'], {});
  assert.equal(home.code, 0, home.stderr);
  assert.match(home.stderr, /certkeep must own \/home\/alice\/certkeep/);
  const service = await readUnit(join(dir, 'certkeep-renew.service'));
  assert.equal(setting(service, 'Service', 'ProtectHome'), undefined);
  assert.equal(setting(service, 'Service', 'PrivateTmp'), 'yes');
  assert.equal(setting(service, 'Service', 'ReadWritePaths'), '/home/alice/certkeep /var/www/html');
  assert.equal(setting(service, 'Service', 'User'), 'certkeep');
  assert.equal(setting(service, 'Service', 'AmbientCapabilities'), 'CAP_NET_BIND_SERVICE', 'renew --all may answer HTTP-01 on port 80');
  await verify(t, [join(dir, 'certkeep-renew.service'), join(dir, 'certkeep-renew.timer')]);

  const data = await tempDir();
  t.after(data.remove);
  const tmp = await runCli(['--data-dir', data.path, 'install-systemd', '--dir', dir, '--force'], {});
  assert.equal(tmp.code, 0, tmp.stderr);
  assert.doesNotMatch(tmp.stderr, /create /, 'the data dir exists');
  const inTmp = await readUnit(join(dir, 'certkeep-renew.service'));
  assert.equal(setting(inTmp, 'Service', 'PrivateTmp'), undefined);
  assert.equal(setting(inTmp, 'Service', 'ProtectHome'), 'read-only');
});

test('--bin names the command; spaces, % and $ are escaped for systemd; control characters refused', async (t) => {
  const dir = await unitDir(t);
  const bin = join(dir, 'certkeep-bin');
  await writeFile(bin, '#!/bin/sh\n');
  await chmod(bin, 0o755);
  const result = await runCli(['--data-dir', '/srv/cert keep/100%$HOME', 'install-systemd', '--dir', dir, '--bin', bin], {});
  assert.equal(result.code, 0, result.stderr);
  const service = await readUnit(join(dir, 'certkeep-renew.service'));
  assert.equal(setting(service, 'Service', 'ExecStart'), `${bin} --data-dir "/srv/cert keep/100%%$$HOME" renew --all`);
  assert.equal(setting(service, 'Service', 'ReadWritePaths'), '"/srv/cert keep/100%%$HOME"');
  await verify(t, [join(dir, 'certkeep-renew.service'), join(dir, 'certkeep-renew.timer')]);

  const missing = await runCli(['install-systemd', '--dir', dir, '--bin', join(dir, 'nope'), '--force'], {});
  assert.equal(missing.code, 2);
  assert.match(oneLine(missing.stderr), /--bin: .*nope is not an executable file/);
  const newline = await runCli(['--data-dir', '/srv/a\nExecStartPre=/bin/false', 'install-systemd', '--dir', dir, '--force'], {});
  assert.equal(newline.code, 2);
  assert.match(oneLine(newline.stderr), /control character/);
  assert.doesNotMatch(await readFile(join(dir, 'certkeep-renew.service'), 'utf8'), /ExecStartPre/);
});

test('--agent writes certkeep-agent.service: the allow-lists on its command line, the token only in a root-only file, writing only where it may', async (t) => {
  const dir = await unitDir(t);
  const args = ['--server', 'https://certkeep.example.com', '--allow-dir', '/etc/ssl/certkeep', '--allow-reload', 'nginx=nginx -t && systemctl reload nginx', '--allow-verify', '127.0.0.1:443'];
  const result = await runCli(['install-systemd', '--dir', dir, '--agent', ...args], { CERTKEEP_AGENT_TOKEN: 'cka_secretsecret.should-not-appear' });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(await readdir(dir), ['certkeep-agent.service']);
  assert.match(result.stderr, /put the agent's token in \/etc\/certkeep\/agent\.env/);
  const text = await readFile(join(dir, 'certkeep-agent.service'), 'utf8');
  assert.ok(!text.includes('secret'), 'no token in the 0644 unit');
  const unit = await readUnit(join(dir, 'certkeep-agent.service'));
  assert.equal(
    setting(unit, 'Service', 'ExecStart'),
    `${CERTKEEP} agent --server https://certkeep.example.com --allow-reload "nginx=nginx -t && systemctl reload nginx" --allow-dir /etc/ssl/certkeep --allow-verify 127.0.0.1:443 --state-dir /var/lib/certkeep-agent`,
  );
  assert.equal(setting(unit, 'Service', 'EnvironmentFile'), '/etc/certkeep/agent.env');
  assert.equal(setting(unit, 'Service', 'ReadWritePaths'), '/var/lib/certkeep-agent /etc/ssl/certkeep');
  assert.equal(setting(unit, 'Service', 'ProtectSystem'), 'strict');
  assert.equal(setting(unit, 'Service', 'Restart'), 'always');
  await verify(t, [join(dir, 'certkeep-agent.service')]);

  // The single executable (npm run build:exe) takes the agent's options itself.
  const bin = join(dir, 'certkeep-agent');
  await writeFile(bin, '#!/bin/sh\n');
  await chmod(bin, 0o755);
  const exe = await runCli(['install-systemd', '--dir', join(dir, 'units'), '--agent', '--bin', bin, ...args], {});
  assert.equal(exe.code, 0, exe.stderr);
  const exeUnit = await readUnit(join(dir, 'units', 'certkeep-agent.service'));
  assert.match(setting(exeUnit, 'Service', 'ExecStart') ?? '', new RegExp(`^${bin} --server https://certkeep.example.com `));
  const missing = await runCli(['install-systemd', '--dir', dir, '--agent', '--force'], {});
  assert.equal(missing.code, 2);
  assert.match(oneLine(missing.stderr), /--server: the certkeep server/);

  // A server behind a private CA: the unit names the CA file, which must be there.
  const caFile = join(dir, 'server-ca.pem');
  await writeFile(caFile, '-----BEGIN CERTIFICATE-----\n');
  const withCa = await runCli(['install-systemd', '--dir', join(dir, 'ca'), '--agent', ...args, '--server-ca', caFile], {});
  assert.equal(withCa.code, 0, withCa.stderr);
  assert.match(setting(await readUnit(join(dir, 'ca', 'certkeep-agent.service')), 'Service', 'ExecStart') ?? '', new RegExp(` --server-ca ${caFile} --state-dir `));
  const noCa = await runCli(['install-systemd', '--dir', join(dir, 'ca2'), '--agent', ...args, '--server-ca', join(dir, 'nope.pem')], {});
  assert.equal(noCa.code, 2);
  assert.match(oneLine(noCa.stderr), /--server-ca: .*nope\.pem is not a readable file/);
});
