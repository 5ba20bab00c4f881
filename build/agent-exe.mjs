// npm run build:exe: dist/certkeep-agent, the host agent as one executable for
// web servers without Node 24 — Node's single executable applications: a
// CommonJS bundle of the agent alone (src/agent/bin.ts: the deploy library and
// node built-ins, no database, no server), turned into a blob by this Node and
// injected with postject into a copy of this Node's binary. Never committed;
// the test that runs it builds it.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { build } from 'esbuild';

const out = 'dist';
const bundle = join(out, 'certkeep-agent.cjs');
const blob = join(out, 'certkeep-agent.blob');
const config = join(out, 'certkeep-agent.sea.json');
const executable = join(out, 'certkeep-agent');
// The fuse Node's binary carries, which postject flips once the blob is in (Node's documentation).
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

mkdirSync(out, { recursive: true });
await build({
  entryPoints: ['src/agent/bin.ts'],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node24',
  outfile: bundle,
  logLevel: 'warning',
});
writeFileSync(config, JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true }));
execFileSync(process.execPath, ['--experimental-sea-config', config], { stdio: 'inherit' });
rmSync(executable, { force: true });
copyFileSync(process.execPath, executable);
chmodSync(executable, 0o755);
const postject = createRequire(import.meta.url).resolve('postject/dist/cli.js');
try {
  // postject warns about ELF notes it does not know on every run: shown only when it fails.
  execFileSync(process.execPath, [postject, executable, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', FUSE], { stdio: 'pipe' });
} catch (error) {
  process.stderr.write(String(error.stderr ?? error.message));
  process.exit(1);
}
for (const file of [bundle, blob, config]) rmSync(file, { force: true });
process.stdout.write(`${executable}\n`);
