#!/usr/bin/env node
// certkeep's command. It runs the bundle built at install time (dist/, about
// twice as fast to start) while that is newer than every source file, and the
// TypeScript sources otherwise. Both need Node >= 22.12 (node:sqlite, type
// stripping): an older node re-runs this file under the Node 24 the package pins.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import module from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [major, minor] = process.versions.node.split('.').map(Number);

if (major > 22 || (major === 22 && minor >= 12)) {
  module.enableCompileCache?.();
  const bundle = join(root, 'dist', 'certkeep.mjs');
  const program = bundleIsFresh(bundle) ? bundle : join(root, 'src', 'certkeep.ts');
  const { main } = await import(program);
  process.exitCode = await main(process.argv);
} else {
  const pinned = join(root, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(pinned)) {
    process.stderr.write(`certkeep: Node ${process.versions.node} is too old; install Node 24 (or run npm ci in ${root})\n`);
    process.exit(1);
  }
  const result = spawnSync(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}

function bundleIsFresh(bundle) {
  if (!existsSync(bundle)) return false;
  const built = statSync(bundle).mtimeMs;
  const newest = (directory) => {
    let latest = 0;
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      const path = join(directory, entry.name);
      latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
    }
    return latest;
  };
  return newest(join(root, 'src')) <= built;
}
