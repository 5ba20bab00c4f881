// DIR itself: what stands there now, the one rename that points it at another version, and
// taking over a plain directory of certificate files (a machine certbot or `certkeep export` used).
import { X509Certificate } from 'node:crypto';
import { lstat, readdir, readFile, readlink, rename, rmdir, stat, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { normalSerial } from './bundle.ts';
import { syncDirectory } from './durable.ts';
import {
  linkText,
  nextSeq,
  REPLACED_PREFIX,
  type Slot,
  slotOfLink,
  temporaryPath,
  type VersionStore,
  writeSlot,
} from './versions.ts';

export type DirectoryState =
  | { kind: 'absent' }
  | { kind: 'ours'; slot: string }
  | { kind: 'plain'; files: string[] }
  | { kind: 'refused'; reason: string };

/** Files a certificate directory may hold; anything else in a plain DIR makes certkeep refuse it. */
const CERTIFICATE_FILE = /^(README|.*\.(pem|crt|cer|key|der|pfx|p12|p7b|csr|chain|ocsp|issuer))$/i;

export async function readDirectoryState(store: VersionStore): Promise<DirectoryState> {
  const dir = store.directory;
  const info = await lstat(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (!info) return { kind: 'absent' };
  if (info.isSymbolicLink()) {
    const text = await readlink(dir);
    const slot = slotOfLink(store, text);
    if (slot) return { kind: 'ours', slot };
    return {
      kind: 'refused',
      reason: `${dir} is a symlink to ${text} that certkeep did not make; remove the link (what it points to stays) or deploy to another directory`,
    };
  }
  if (!info.isDirectory()) {
    return {
      kind: 'refused',
      reason: `${dir} is a file, not a directory; move it away or deploy to another directory`,
    };
  }
  return plainDirectoryState(dir);
}

async function plainDirectoryState(dir: string): Promise<DirectoryState> {
  const names = await readdir(dir);
  const foreign: string[] = [];
  for (const name of names) {
    const info = await stat(join(dir, name)).catch(() => undefined);
    if (!info?.isFile() || !CERTIFICATE_FILE.test(name)) foreign.push(name);
  }
  if (foreign.length === 0) return { kind: 'plain', files: names };
  return {
    kind: 'refused',
    reason:
      `${dir} holds more than certificate files (${foreign.slice(0, 5).join(', ')}${foreign.length > 5 ? ', …' : ''}); ` +
      'certkeep replaces DIR with a link to its versions, so deploy to a directory of its own or move those away',
  };
}

/**
 * Copies the certificate files of a plain DIR into a slot of their own, so that the first
 * deployment can roll back to them. The directory itself is moved aside, untouched, by switchTo.
 */
export async function adoptPlainDirectory(store: VersionStore, files: string[]): Promise<Slot | undefined> {
  if (files.length === 0) return undefined;
  const contents = [];
  const modes = new Map<string, number>();
  for (const name of files) {
    const path = join(store.directory, name);
    contents.push({ name, content: await readFile(path), secret: true });
    modes.set(name, (await stat(path)).mode & 0o7777);
  }
  const now = new Date();
  return writeSlot(store, {
    seq: await nextSeq(store),
    label: 'adopted',
    files: contents,
    modes,
    version: {
      names: [],
      serial: await servedSerialOf(store.directory, files),
      writtenAt: now,
      completedAt: now,
    },
  });
}

/** The leaf serial a plain directory's files hold (cert.pem, fullchain.pem, or the first PEM certificate). */
async function servedSerialOf(dir: string, files: string[]): Promise<string | undefined> {
  const ordered = [...files].sort((a, b) => rank(a) - rank(b));
  for (const name of ordered) {
    try {
      return normalSerial(new X509Certificate(await readFile(join(dir, name))).serialNumber);
    } catch {}
  }
  return undefined;
}

function rank(name: string): number {
  const order = ['cert.pem', 'fullchain.pem'];
  return order.includes(name) ? order.indexOf(name) : order.length;
}

/**
 * Points DIR at a slot: a new symlink renamed over the old one, one atomic step. A plain directory
 * at DIR (taken over) is first renamed aside into the store and kept there; that one switch is two
 * renames, and a process killed between them leaves DIR absent until the next deployment.
 */
export async function switchTo(
  store: VersionStore,
  slot: string,
  state: DirectoryState,
): Promise<string | undefined> {
  const link = temporaryPath(store, 'link');
  await symlink(linkText(store, slot), link);
  let replaced: string | undefined;
  if (state.kind === 'plain' && state.files.length === 0) {
    await rmdir(store.directory);
  } else if (state.kind === 'plain') {
    replaced = join(store.path, `${REPLACED_PREFIX}${new Date().toISOString().replace(/[:.]/g, '-')}`);
    await rename(store.directory, replaced);
  }
  await rename(link, store.directory);
  await syncDirectory(dirname(store.directory));
  return replaced;
}
