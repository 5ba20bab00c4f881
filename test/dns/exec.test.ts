import assert from 'node:assert/strict';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createExecProvider, execProvider } from '../../src/dns/providers/exec/exec.ts';
import { tempDir } from '../rig/tmp.ts';

describe('exec DNS provider', () => {
  let dir: { path: string; remove: () => Promise<void> };
  before(async () => {
    dir = await tempDir('certkeep-exec-');
  });
  after(() => dir.remove());

  async function script(name: string, body: string): Promise<string> {
    const path = join(dir.path, name);
    await writeFile(path, `#!/bin/sh\n${body}\n`);
    await chmod(path, 0o755);
    return path;
  }

  test('calls the script with lego’s arguments: action, FQDN with a trailing dot, value', async () => {
    const log = join(dir.path, 'calls.log');
    const command = await script('record.sh', `printf '%s|' "$@" >> '${log}'; echo >> '${log}'`);
    const provider = execProvider.create({ zone: 'example.test', settings: { command } });
    await provider.present({ fqdn: '_acme-challenge.example.test', value: 'v1 $(touch /tmp/x);' });
    await provider.cleanup({ fqdn: '_acme-challenge.example.test.', value: 'v1 $(touch /tmp/x);' });
    assert.deepEqual((await readFile(log, 'utf8')).trim().split('\n'), [
      'present|_acme-challenge.example.test.|v1 $(touch /tmp/x);|',
      'cleanup|_acme-challenge.example.test.|v1 $(touch /tmp/x);|',
    ]);
  });

  test('does not hand certkeep’s own environment to the script', async () => {
    const out = join(dir.path, 'env.out');
    const command = await script('env.sh', `echo "key=$CERTKEEP_MASTER_KEY path=\${PATH:+set}" > '${out}'`);
    process.env.CERTKEEP_MASTER_KEY = 'do-not-leak';
    try {
      await createExecProvider({ command }).present({ fqdn: 'a.example.test', value: 'v' });
    } finally {
      delete process.env.CERTKEEP_MASTER_KEY;
    }
    assert.equal((await readFile(out, 'utf8')).trim(), 'key= path=set');
  });

  test('a non-zero exit gives the exit code and the end of stderr', async () => {
    const command = await script('fail.sh', 'echo noise >&2; echo boom >&2; exit 3');
    await assert.rejects(
      createExecProvider({ command }).present({
        fqdn: '_acme-challenge.example.test',
        value: 'token-digest',
      }),
      (error: Error) => {
        assert.match(error.message, /present _acme-challenge\.example\.test\. failed with exit code 3/);
        assert.match(error.message, /noise\nboom$/);
        assert.ok(!error.message.includes('token-digest'), 'the value stays out of the message');
        return true;
      },
    );
  });

  test('kills a script that outlives the timeout, children included', async () => {
    const command = await script('slow.sh', 'sleep 30 & sleep 30');
    await assert.rejects(
      createExecProvider({ command, timeoutMs: 300 }).cleanup({ fqdn: 'a.example.test', value: 'v' }),
      /cleanup a\.example\.test\. did not finish within 0\.3 s and was killed/,
    );
  });

  test('a missing command, a non-executable file and a bad interpreter are named clearly', async () => {
    const record = { fqdn: 'a.example.test', value: 'v' };
    const missing = join(dir.path, 'no-such-script');
    await assert.rejects(
      createExecProvider({ command: missing }).present(record),
      new RegExp(`cannot run ${missing}: no such file`),
    );
    const plain = join(dir.path, 'plain.sh');
    await writeFile(plain, '#!/bin/sh\nexit 0\n');
    await assert.rejects(
      createExecProvider({ command: plain }).present(record),
      /plain\.sh: it is not executable/,
    );
    const badShebang = await script('bad.sh', '');
    await writeFile(badShebang, '#!/no/such/interpreter\n');
    await assert.rejects(
      createExecProvider({ command: badShebang }).present(record),
      /interpreter .* was not found/,
    );
  });

  test('settings: command is required, timeout must be positive seconds', () => {
    assert.throws(
      () => execProvider.create({ zone: 'example.test', settings: {} }),
      /needs the setting command/,
    );
    assert.throws(
      () =>
        execProvider.create({ zone: 'example.test', settings: { command: '/bin/true', timeout: 'soon' } }),
      /timeout "soon" is not a positive number of seconds/,
    );
  });
});
