#!/usr/bin/env node
// certkeep's command. It runs the bundle built at install time (dist/, about
// twice as fast to start) while that is newer than every source file, and the
// TypeScript sources otherwise. Both need Node >= 22.12 (node:sqlite, type
// stripping): an older node re-runs this file under the Node 24 the package pins,
// passing on the signals that stop it and ending as that child ends.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import module from 'node:module';
import os from 'node:os';
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
  runPinned(pinned);
}

/**
 * The real certkeep runs as a child: the signals that stop a process reach it
 * through this one (a service manager or `kill` signals only this pid), and this
 * one ends as the child did — with its exit code, or by the same signal.
 */
function runPinned(pinned) {
  const child = spawn(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  const forwarded = ['SIGTERM', 'SIGINT', 'SIGHUP'];
  const forward = (signal) => child.kill(signal);
  for (const signal of forwarded) process.on(signal, forward);
  child.on('error', (error) => {
    process.stderr.write(`certkeep: cannot run ${pinned}: ${error.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    for (const name of forwarded) process.off(name, forward);
    if (signal === null) process.exit(code ?? 1);
    // Die of the same signal, so that a shell or a service manager sees what the child saw.
    process.kill(process.pid, signal);
    process.exit(128 + (os.constants.signals[signal] ?? 0));
  });
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
