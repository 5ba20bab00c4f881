// The README's one-machine recipe, followed from start to finish (issue 12): its commands are read
// from README.md and run as written, with this rig's names, directory, nginx and ports in place of
// example.com's; the timer's service is then run as systemd would run it. Issued, deployed,
// renewed, served.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { test } from 'node:test';
import { normalSerial } from '../../src/deploy/index.ts';
import { servedSerial, servesSerial } from '../rig/https.ts';
import { tempDir } from '../rig/tmp.ts';
import { NGINX } from '../rig/web-server-cases.ts';
import { currentSerial, startOnPlaceholder } from './delivery.ts';
import { runCommand, startRig, ZONE } from './harness.ts';

const README = new URL('../../README.md', import.meta.url).pathname;

/** The fenced blocks of a README section, by language. */
async function sectionBlocks(heading: string): Promise<{ language: string; lines: string[] }[]> {
  const text = await readFile(README, 'utf8');
  const start = text.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `README has a section "${heading}"`);
  const end = text.indexOf('\n## ', start + 1);
  const section = text.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({
    language: m[1],
    lines: m[2].replaceAll('\\\n', ' ').split('\n').filter(Boolean),
  }));
}

/** A command line split into words as sh would (quotes, no expansion). */
function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g)].map(
    (m) => m[1] ?? m[2]?.replace(/\\(.)/g, '$1') ?? m[3],
  );
}

test("the README's one-machine recipe: issue with --deploy-to, --reload and --verify, then the timer renews and deploys", async (t) => {
  const blocks = await sectionBlocks('Using it on one machine');
  const shell = blocks.find((b) => b.language === 'sh');
  const nginxConf = blocks.find((b) => b.language === 'nginx');
  assert.ok(shell && nginxConf, 'the recipe has its commands and the nginx lines');
  const recipe = shell.lines.map(words);

  const rig = await startRig();
  t.after(() => rig.stop());
  const root = await tempDir('certkeep-readme-');
  t.after(() => root.remove());
  const names = new Map([
    ['example.com', `recipe.${ZONE}`],
    ['www.example.com', `www.recipe.${ZONE}`],
  ]);
  const directory = join(root.path, 'etc-ssl', `recipe.${ZONE}`);
  // nginx reads the files the README's nginx lines name, in the deploy directory.
  const files = nginxConf.lines
    .map((line) => /^ssl_certificate(?:_key)?\s+(\S+);$/.exec(line.trim())?.[1])
    .filter((file) => file !== undefined);
  assert.deepEqual(
    files.map((file) => basename(file)),
    ['fullchain.pem', 'privkey.pem'],
  );
  assert.deepEqual([...new Set(files.map((file) => dirname(file)))], ['/etc/ssl/example.com']);
  const nginx = await startOnPlaceholder(NGINX, root.path, directory, `recipe.${ZONE}`, [...names.values()]);
  t.after(() => nginx.stop());
  const units = join(root.path, 'units');
  const here = (word: string): string =>
    names.get(word) ??
    (
      {
        '/etc/ssl/example.com': directory,
        'systemctl reload nginx': nginx.reloadCommand,
        '127.0.0.1:443': `127.0.0.1:${nginx.port}`,
        '/etc/systemd/system': units,
      } as Record<string, string>
    )[word] ??
    word;

  const certkeepLines = recipe.filter((line) => line[0] === 'npx' && line[1] === 'certkeep');
  assert.deepEqual(
    certkeepLines.map((line) => line[2]),
    ['issue', 'install-systemd'],
  );
  assert.ok(
    recipe.some((line) => line.join(' ').includes('systemctl enable --now certkeep-renew.timer')),
    'the recipe enables the timer',
  );
  for (const line of certkeepLines) {
    // Pebble validates HTTP-01 on the rig's port, not on 80.
    const args = [
      ...line.slice(2).map(here),
      ...(line[2] === 'issue' ? ['--http-port', String(rig.httpPort)] : []),
    ];
    const result = await rig.certkeep(args);
    assert.equal(result.code, 0, `certkeep ${args.join(' ')}\n${result.stdout}${result.stderr}`);
  }
  const issued = await currentSerial(rig, `recipe.${ZONE}`);
  for (const name of names.values()) await servesSerial(nginx.port, name, issued);

  // What systemd runs when the timer fires, as it runs it: no CERTKEEP_* environment, only the unit's command line.
  const service = await readFile(join(units, 'certkeep-renew.service'), 'utf8');
  assert.match(
    service,
    new RegExp(`^ReadWritePaths=.* ${dirname(directory)}$`, 'm'),
    'the sandbox lets the timer write to the deploy directory',
  );
  const execStart = /^ExecStart=(.*)$/m.exec(service)?.[1];
  assert.ok(execStart);
  const environment = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('CERTKEEP_')),
  );
  // The certificate is months from due: --force stands in for those months.
  const timer = await runCommand([...words(execStart), '--force'], environment);
  assert.equal(timer.code, 0, timer.stdout + timer.stderr);
  const renewed = await currentSerial(rig, `recipe.${ZONE}`);
  assert.notEqual(renewed, issued);
  for (const name of names.values())
    assert.equal(
      normalSerial(await servedSerial(nginx.port, name)),
      renewed,
      `${name} is served the renewed certificate`,
    );
  assert.match(
    timer.stdout,
    new RegExp(
      `✔ recipe\\.${ZONE.replace('.', '\\.')} → ${directory}: deployed serial 0*${renewed}, verified served at `,
    ),
  );
});
