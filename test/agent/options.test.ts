// certkeep agent's options: flags over CERTKEEP_AGENT_TOKEN over the config file; NAME=CMD split at
// the first `=`; each mistake named by its flag.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAgentOptions } from '../../src/agent/options.ts';
import { tempDir } from '../rig/tmp.ts';

test('the config file can hold every option; flags and CERTKEEP_AGENT_TOKEN win over it', async (t) => {
  const dir = await tempDir('certkeep-agent-options-');
  t.after(dir.remove);
  const file = join(dir.path, 'agent.json');
  await writeFile(file, JSON.stringify({
    server: 'https://certkeep.example.com',
    token: 'from-file',
    allowReload: { nginx: 'nginx -t && nginx -s reload' },
    allowHook: ['copy=cp a=b /srv/x'],
    allowDir: ['/etc/ssl/certkeep/../certkeep'],
    allowVerify: ['127.0.0.1:443'],
    stateDir: join(dir.path, 'state'),
    once: true,
  }));
  const fromFile = parseAgentOptions(['--config', file], {});
  assert.equal(fromFile.server.href, 'https://certkeep.example.com/');
  assert.equal(fromFile.token, 'from-file');
  assert.equal(fromFile.allowReload.get('nginx'), 'nginx -t && nginx -s reload');
  assert.equal(fromFile.allowHook.get('copy'), 'cp a=b /srv/x', 'split at the first =');
  assert.deepEqual(fromFile.allowDir, ['/etc/ssl/certkeep']);
  assert.equal(fromFile.once, true);
  assert.equal(parseAgentOptions(['--config', file], { CERTKEEP_AGENT_TOKEN: 'from-env' }).token, 'from-env');
  const flags = parseAgentOptions(['--config', file, '--token', 'from-flag', '--allow-reload', 'apache=apachectl graceful'], { CERTKEEP_AGENT_TOKEN: 'from-env' });
  assert.equal(flags.token, 'from-flag');
  assert.deepEqual([...flags.allowReload.keys()], ['apache'], 'the flag replaces the file’s list');
});

test('mistakes are refused naming the flag', () => {
  const base = ['--server', 'https://c.example', '--token', 't'];
  const cases: [string[], RegExp][] = [
    [['--token', 't'], /--server: give the certkeep server/],
    [['--server', 'https://c.example'], /--token: give the agent's token/],
    [['--server', 'ftp://c.example', '--token', 't'], /--server: "ftp:\/\/c.example" must be an http\(s\) URL/],
    [[...base, '--allow-reload', 'nginx'], /--allow-reload: "nginx" must be NAME=CMD/],
    [[...base, '--allow-hook', 'bad name=x'], /--allow-hook: "bad name=x" must be NAME=CMD/],
    [[...base, '--allow-dir', 'relative/dir'], /--allow-dir: "relative\/dir" must be an absolute directory/],
    [[...base, '--config', '/nonexistent/agent.json'], /--config: cannot read \/nonexistent\/agent.json: ENOENT/],
    [[...base, '--bogus'], /Unknown option '--bogus'.*certkeep agent --help/],
  ];
  for (const [argv, message] of cases) assert.throws(() => parseAgentOptions(argv, {}), message, argv.join(' '));
});
