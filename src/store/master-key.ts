// The master key that SecretBox encrypts with: from CERTKEEP_MASTER_KEY (base64
// of 32 bytes) or from `<dataDir>/master.key`, created on first run.
//
// The key file is written to a temporary file and then hard-linked into place:
// link() fails if the name exists, so two processes starting at once both end
// up reading the one key that won, and no reader ever sees a half-written file.
// A key file that group or others can read is refused, as ssh refuses such a
// private key: the key opens every secret in the database.
import { randomBytes, randomUUID } from 'node:crypto';
import { link, open, readFile, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { StoreError } from './errors.ts';

export const MASTER_KEY_ENV = 'CERTKEEP_MASTER_KEY';
export const MASTER_KEY_FILE = 'master.key';
const KEY_BYTES = 32;
const BASE64_KEY = /^[A-Za-z0-9+/_-]{43}=?$/;

export interface MasterKey {
  key: Buffer;
  /** Where the key came from, for error messages: `CERTKEEP_MASTER_KEY` or the key file's path. */
  source: string;
}

/** A fresh key in the form CERTKEEP_MASTER_KEY and master.key expect. */
export function generateMasterKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

/** Decodes a base64 (or base64url) 32-byte key; `source` names it in the error, the value never appears. */
export function parseMasterKey(text: string, source: string): Buffer {
  const trimmed = text.trim();
  const key = BASE64_KEY.test(trimmed) ? Buffer.from(trimmed, 'base64') : undefined;
  if (!key || key.length !== KEY_BYTES) {
    throw new StoreError(
      `${source} is not a base64-encoded ${KEY_BYTES}-byte key (it has ${trimmed.length} characters, ` +
        `a key has 44); generate one with: openssl rand -base64 ${KEY_BYTES}`,
    );
  }
  return key;
}

export interface KeyOptions {
  dataDir: string;
  masterKey?: string;
  /** Whether a missing key file may be created (default true): never beside an existing database. */
  mayCreate?: boolean;
  /** The existing database, named in the error when its key file is missing. */
  database?: string;
}

/** The key from `masterKey` (the value of CERTKEEP_MASTER_KEY) if given, else from the key file in dataDir. */
export async function loadMasterKey(opts: KeyOptions): Promise<MasterKey> {
  if (opts.masterKey !== undefined) {
    return { key: parseMasterKey(opts.masterKey, MASTER_KEY_ENV), source: MASTER_KEY_ENV };
  }
  const path = join(opts.dataDir, MASTER_KEY_FILE);
  return { key: await readOrCreateKeyFile(path, opts), source: path };
}

async function readOrCreateKeyFile(path: string, opts: KeyOptions): Promise<Buffer> {
  const existing = await readKeyFile(path);
  if (existing) return existing;
  if (opts.mayCreate === false) {
    // A new key could open none of the secrets already stored: say what is missing instead.
    throw new StoreError(
      `the master key file ${path} is missing, but ${opts.database ?? 'the database'} exists and its secrets are sealed with that key; ` +
        `restore ${MASTER_KEY_FILE} from a backup (or set ${MASTER_KEY_ENV} to the key) — certkeep will not make a new one`,
    );
  }
  await createKeyFile(path);
  const created = await readKeyFile(path);
  if (!created) throw new StoreError(`the master key file ${path} vanished right after it was created`);
  return created;
}

async function readKeyFile(path: string): Promise<Buffer | undefined> {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (error) {
    if (code(error) === 'ENOENT') return undefined;
    throw new StoreError(`cannot read the master key file ${path}: ${code(error) ?? String(error)}`);
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new StoreError(
      `the master key file ${path} can be read by other users (mode ${(mode & 0o777).toString(8)}); ` +
        `restrict it with: chmod 600 ${path}`,
    );
  }
  const text = await readFile(path, 'utf8').catch((error) => {
    throw new StoreError(`cannot read the master key file ${path}: ${code(error) ?? String(error)}`);
  });
  return parseMasterKey(text, `the master key file ${path}`);
}

async function createKeyFile(path: string): Promise<void> {
  const temp = `${path}.${randomUUID()}.tmp`;
  try {
    const file = await open(temp, 'wx', 0o600);
    try {
      await file.writeFile(`${generateMasterKey()}\n`);
      await file.sync();
    } finally {
      await file.close();
    }
    await link(temp, path).catch((error) => {
      if (code(error) !== 'EEXIST') throw error; // another process won: use its key
    });
    await syncDirectory(dirname(path));
  } catch (error) {
    throw new StoreError(`cannot create the master key file ${path}: ${code(error) ?? String(error)}`);
  } finally {
    await unlink(temp).catch(() => {});
  }
}

// The key must survive a crash that the secrets written with it survive.
async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function code(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException)?.code;
}
