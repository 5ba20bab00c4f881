// `certkeep demo`: the whole product in one command, on this machine alone.
// Starts BIND (a test zone that resolves to 127.0.0.1) and Pebble (a test
// ACME CA that validates through that BIND), issues a certificate over real
// HTTP-01 validation, writes its files and checks the chain.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { certificateFiles, chainLeadsTo, issueCertificate, startDemoCa, validateRequest } from '../../engine/index.ts';
import { ConflictError, UnavailableError } from '../../errors.ts';
import { withSession } from '../session.ts';

const REQUIRED = [
  { binary: '/usr/bin/pebble', pkg: 'pebble' },
  { binary: '/usr/sbin/named', pkg: 'bind9' },
];
const ZONE = 'certkeep.test';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'issue a real certificate from a local Pebble CA, validated over HTTP-01 through a local BIND',
    )
    .action(async (_options, command: Command) => {
      const flags = command.optsWithGlobals();
      ensurePackages(flags.json === true);
      const dataDir = resolve(flags.dataDir ?? process.env.CERTKEEP_DATA_DIR ?? './certkeep-demo');
      const ca = await startDemoCa(ZONE);
      const { httpPort } = ca;
      try {
        await withSession({ ...flags, dataDir, ca: ca.directoryUrl, caCert: ca.caCertFile }, async (session) => {
          const out = session.output;
          out.note(`BIND serves ${ZONE} on ${ca.dnsAddress}; Pebble's ACME directory is ${ca.directoryUrl}`);
          const request = validateRequest({
            subscriptionId: session.subscriptionId,
            name: `demo.${ZONE}`,
            names: [`demo.${ZONE}`, `www.demo.${ZONE}`],
            challengeType: 'http-01',
            challengeConfig: { httpHost: '127.0.0.1', httpPort },
            issuers: [session.engine.issuer],
          });
          const started = performance.now();
          const outcome = await issueCertificate(session.engine, request, { solvers: session.engine.solvers, force: true });
          const seconds = (performance.now() - started) / 1000;
          if (outcome.status === 'unchanged') throw new ConflictError('the demo certificate was not issued');
          const files = await certificateFiles(session.engine, session.subscriptionId, request.name, 'demo');
          const folder = join(dataDir, 'files', request.name);
          await mkdir(folder, { recursive: true });
          await writeFile(join(folder, 'fullchain.pem'), files.fullchain);
          await writeFile(join(folder, 'privkey.pem'), files.key!, { mode: 0o600 });
          await writeFile(join(folder, 'cert.pfx'), files.pfx!, { mode: 0o600 });
          const chainOk = chainLeadsTo(files.fullchain, await ca.rootsPem());
          out.result(
            {
              name: request.name,
              names: request.identifiers.map((i) => i.value),
              serial: outcome.version.serial,
              notAfter: new Date(outcome.version.notAfter).toISOString(),
              seconds: Number(seconds.toFixed(3)),
              chainVerified: chainOk,
              dataDir,
              files: folder,
              portal: 'certkeep admin user create EMAIL --subscription ID --role admin; certkeep serve; open http://127.0.0.1:8080/',
            },
            [
              `✔ issued ${request.name} for ${request.identifiers.map((i) => i.value).join(', ')} in ${seconds.toFixed(2)} s`,
              `  Pebble validated it over HTTP-01: it looked the names up in BIND and fetched the token from certkeep's responder on 127.0.0.1:${httpPort}`,
              `  serial ${outcome.version.serial}, valid until ${new Date(outcome.version.notAfter).toISOString()}`,
              `  chain ${chainOk ? 'verifies' : 'does NOT verify'} against Pebble's root`,
              `  files: ${folder}/{fullchain.pem,privkey.pem,cert.pfx} (PFX password: demo)`,
              // npx finds the package's own command in this checkout, where `npm run demo` runs.
              `  the store: npx certkeep --data-dir ${shellWord(dataDir)} list`,
              '  the web portal: npx certkeep admin subscription create "My team" --json, then',
              '    npx certkeep admin user create you@example.com --subscription <id> --role admin,',
              '    npx certkeep serve, and open http://127.0.0.1:8080/ (sign in with the one-time password it printed)',
            ],
          );
          if (!chainOk) process.exitCode = 1;
        }, { create: true });
      } finally {
        await ca.stop();
      }
    });
}

function ensurePackages(quiet: boolean): void {
  const missing = REQUIRED.filter((r) => !existsSync(r.binary)).map((r) => r.pkg);
  if (missing.length === 0) return;
  const install = `apt-get install -y ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) {
    throw new UnavailableError(`the demo needs ${missing.join(' and ')}; install with: sudo ${install}`);
  }
  if (!quiet) process.stderr.write(`installing ${missing.join(', ')} with apt-get (the demo needs them)…\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const stdio = quiet ? 'ignore' : 'inherit';
  let result = spawnSync('apt-get', ['install', '-y', '-q', ...missing], { stdio, env });
  if (result.status !== 0) {
    spawnSync('apt-get', ['update', '-q'], { stdio, env });
    result = spawnSync('apt-get', ['install', '-y', '-q', ...missing], { stdio, env });
  }
  if (result.status !== 0) throw new UnavailableError(`could not install ${missing.join(', ')}; try: ${install}`);
}

/** A path as a POSIX shell reads it back: quoted when it holds more than plain path characters. */
function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}
