// One deployment at a time per target, across processes (the CLI's renew and a running server, say):
// a lock file created exclusively, holding its owner's pid. A lock whose process is gone (killed
// mid-deployment) is taken over.
import { randomBytes } from 'node:crypto';
import { link, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LOCK_FILE, type VersionStore } from './versions.ts';

export type LockResult = { ok: true; release: () => Promise<void> } | { ok: false; reason: string };

/** Targets this process is deploying now (a pid alone cannot tell two of its own deployments apart). */
const held = new Set<string>();

export async function lockTarget(store: VersionStore): Promise<LockResult> {
  const path = join(store.path, LOCK_FILE);
  if (held.has(path)) return busy(store, process.pid);
  held.add(path);
  const result = await takeLock(store, path).catch((error: Error) => ({
    ok: false as const,
    reason: error.message,
  }));
  if (!result.ok) held.delete(path);
  return result;
}

async function takeLock(store: VersionStore, path: string): Promise<LockResult> {
  const token = `${process.pid} ${randomBytes(8).toString('hex')}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await createExclusive(path, token)) return { ok: true, release: () => release(path, token) };
    const holder = await readFile(path, 'utf8').catch(() => '');
    const pid = Number(holder.split(' ')[0]);
    if (holder && Number.isInteger(pid) && pid !== process.pid && processAlive(pid)) return busy(store, pid);
    // The holder is gone (or was an earlier process with our pid): take the lock over.
    await rm(path, { force: true });
  }
  return { ok: false, reason: `could not take the lock ${path}; another process keeps replacing it` };
}

/** The lock appears with its content in one step: a hard link of a file already written. */
async function createExclusive(path: string, token: string): Promise<boolean> {
  const written = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(written, token, { mode: 0o644 });
  try {
    await link(written, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await rm(written, { force: true });
  }
}

async function release(path: string, token: string): Promise<void> {
  held.delete(path);
  if ((await readFile(path, 'utf8').catch(() => '')) === token) await rm(path, { force: true });
}

/** Whether the process exists (one of another user's counts: it cannot be signalled, but it is there). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function busy(store: VersionStore, pid: number): LockResult {
  return {
    ok: false,
    reason: `another deployment to ${store.directory} is running (pid ${pid}); try again when it has finished`,
  };
}
