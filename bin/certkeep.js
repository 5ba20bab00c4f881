#!/usr/bin/env node
// certkeep runs TypeScript directly, which needs Node >= 22.12 (type stripping
// and node:sqlite). When started by an older node, re-run under the Node 24
// that the package pins, if it is installed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'src', 'cli', 'main.ts');
const [major, minor] = process.versions.node.split('.').map(Number);

if (major > 22 || (major === 22 && minor >= 12)) {
  process.argv[1] = entry;
  const { main } = await import('../src/cli/program.ts');
  process.exitCode = await main(process.argv);
} else {
  const pinned = join(root, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(pinned)) {
    process.stderr.write(`certkeep: Node ${process.versions.node} is too old; install Node 24 (or run npm ci in ${root})\n`);
    process.exit(1);
  }
  const result = spawnSync(pinned, [entry, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
