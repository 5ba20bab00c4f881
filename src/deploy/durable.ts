// Writes that survive a power cut or a SIGKILL in the right order: each file flushed before the
// directory that names it, so a rename publishes only what is already on disk.
import { chown, open } from 'node:fs/promises';
import type { Ownership } from './owner.ts';

/** Creates `path` (it must not exist), writes, chmods, chowns and flushes it. */
export async function writeDurably(
  path: string,
  content: string | Uint8Array,
  mode: number,
  owner?: Ownership,
): Promise<void> {
  const handle = await open(path, 'wx', mode);
  try {
    await handle.writeFile(content);
    await handle.chmod(mode); // the umask may have narrowed the mode open() asked for
    if (owner) await handle.chown(owner.uid, owner.gid);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Flushes a directory's entries (new names, renames) to disk. */
export async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function chownIf(path: string, owner: Ownership | undefined): Promise<void> {
  if (owner) await chown(path, owner.uid, owner.gid);
}
