// The version store beside a target: DIR's parent holds a hidden `.NAME.certkeep/` with one slot
// per deployed version (`<seq>-<versionId>/files` + `manifest.json`). A slot is written under a
// `.partial` name and renamed when complete, so a complete slot name always means complete files.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { chownIf, syncDirectory, writeDurably } from './durable.ts';
import type { LayoutFile } from './layout.ts';
import type { Ownership } from './owner.ts';
import type { DeployedVersion, DeployFormat } from './types.ts';

const MANIFEST = 'manifest.json';
const SLOT_NAME = /^(\d+)-[A-Za-z0-9._-]+$/;
/** Kept forever: a plain directory that stood at DIR before certkeep took it over. */
export const REPLACED_PREFIX = 'replaced-';

export interface Slot {
  name: string;
  seq: number;
  path: string;
  version: DeployedVersion;
}

export interface VersionStore {
  directory: string;
  path: string;
  /** The name the store has inside DIR's parent (the symlink's relative text starts with it). */
  name: string;
}

export function versionStore(directory: string): VersionStore {
  const name = `.${basename(directory)}.certkeep`;
  return { directory, name, path: join(dirname(directory), name) };
}

export async function openStore(store: VersionStore): Promise<void> {
  await mkdir(dirname(store.directory), { recursive: true, mode: 0o755 });
  await mkdir(store.path, { recursive: true, mode: 0o755 });
}

/** The relative symlink text that makes DIR show a slot's files. */
export function linkText(store: VersionStore, slot: string): string {
  return `${store.name}/${slot}/files`;
}

/** The slot a symlink text names, when it is one of this store's. */
export function slotOfLink(store: VersionStore, text: string): string | undefined {
  const match = /^([^/]+)\/([^/]+)\/files$/.exec(text);
  return match && match[1] === store.name && SLOT_NAME.test(match[2]) ? match[2] : undefined;
}

export async function readSlot(store: VersionStore, name: string): Promise<Slot | undefined> {
  const match = SLOT_NAME.exec(name);
  if (!match) return undefined;
  const path = join(store.path, name);
  const version = await readManifest(path);
  return version && { name, seq: Number(match[1]), path, version };
}

/** Complete slots, oldest first. */
export async function listSlots(store: VersionStore): Promise<Slot[]> {
  const slots = await Promise.all((await entries(store)).map((name) => readSlot(store, name)));
  return slots.filter((slot): slot is Slot => slot !== undefined).sort((a, b) => a.seq - b.seq);
}

export async function nextSeq(store: VersionStore): Promise<number> {
  const seqs = (await entries(store)).map((name) => Number(/^(\d+)-/.exec(name)?.[1] ?? 0));
  return Math.max(0, ...seqs) + 1;
}

export interface NewSlot {
  seq: number;
  label: string;
  files: LayoutFile[];
  version: DeployedVersion;
  owner?: Ownership;
  /** Files taken as they are (adoption): their modes are given with each. */
  modes?: Map<string, number>;
}

/** Writes a slot under a temporary name, flushes it, and renames it into place. */
export async function writeSlot(store: VersionStore, slot: NewSlot): Promise<Slot> {
  const name = `${slot.seq}-${slotLabel(slot.label)}`;
  const partial = join(store.path, `${name}.partial`);
  const path = join(store.path, name);
  try {
    await mkdir(join(partial, 'files'), { recursive: true, mode: 0o755 });
    for (const file of slot.files) {
      const mode = slot.modes?.get(file.name) ?? (file.secret ? 0o600 : 0o644);
      await writeDurably(join(partial, 'files', file.name), file.content, mode, slot.owner);
    }
    await chownIf(join(partial, 'files'), slot.owner);
    await syncDirectory(join(partial, 'files'));
    await writeDurably(join(partial, MANIFEST), manifestText(slot.version), 0o644);
    await syncDirectory(partial);
    await rename(partial, path);
    await syncDirectory(store.path);
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    throw error;
  }
  return { name, seq: slot.seq, path, version: slot.version };
}

/** Replaces a slot's manifest in one rename (e.g. to record that its deployment finished). */
export async function updateManifest(slot: Slot, version: DeployedVersion): Promise<void> {
  const temporary = join(slot.path, `${MANIFEST}.${randomBytes(4).toString('hex')}.tmp`);
  await writeDurably(temporary, manifestText(version), 0o644);
  await rename(temporary, join(slot.path, MANIFEST));
  await syncDirectory(slot.path);
  slot.version = version;
}

export async function removeSlot(store: VersionStore, name: string): Promise<void> {
  await rm(join(store.path, name), { recursive: true, force: true });
}

/**
 * Removes what a killed deployment left half-made: partial slots, temporary links and manifests,
 * and slots whose deployment never finished (unless DIR shows one of them now).
 */
export async function removeLeftovers(store: VersionStore, current: string | undefined): Promise<void> {
  for (const name of await entries(store)) {
    if (name === current || name.startsWith(REPLACED_PREFIX) || name === LOCK_FILE) continue;
    const slot = await readSlot(store, name);
    if (!slot?.version.completedAt) await rm(join(store.path, name), { recursive: true, force: true });
  }
  for (const slot of await listSlots(store)) {
    for (const name of await readdir(slot.path)) {
      if (name.endsWith('.tmp')) await rm(join(slot.path, name), { force: true });
    }
  }
}

export const LOCK_FILE = 'lock';

/** A path in the store for a temporary name (a link about to be renamed over DIR). */
export function temporaryPath(store: VersionStore, what: string): string {
  return join(store.path, `${what}.${randomBytes(6).toString('hex')}.tmp`);
}

async function entries(store: VersionStore): Promise<string[]> {
  try {
    return await readdir(store.path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

function slotLabel(label: string): string {
  return label.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64) || 'version';
}

interface Manifest {
  kind: 'certkeep-deployment';
  versionId?: string;
  serial?: string;
  certificateName?: string;
  format?: DeployFormat;
  names: string[];
  writtenAt: string;
  completedAt?: string;
  verifiedAt?: string;
}

function manifestText(version: DeployedVersion): string {
  const manifest: Manifest = {
    kind: 'certkeep-deployment',
    versionId: version.versionId,
    serial: version.serial,
    certificateName: version.certificateName,
    format: version.format,
    names: version.names,
    writtenAt: version.writtenAt.toISOString(),
    completedAt: version.completedAt?.toISOString(),
    verifiedAt: version.verifiedAt?.toISOString(),
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

async function readManifest(slotPath: string): Promise<DeployedVersion | undefined> {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(join(slotPath, MANIFEST), 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
  if (manifest?.kind !== 'certkeep-deployment') return undefined;
  const date = (text: string | undefined) => (text ? new Date(text) : undefined);
  return {
    versionId: manifest.versionId,
    serial: manifest.serial,
    certificateName: manifest.certificateName,
    format: manifest.format,
    names: manifest.names ?? [],
    writtenAt: new Date(manifest.writtenAt),
    completedAt: date(manifest.completedAt),
    verifiedAt: date(manifest.verifiedAt),
  };
}
