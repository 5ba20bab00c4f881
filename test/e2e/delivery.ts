// Delivery on one machine through the real CLI: what the web-server tests share. A web server
// starts on files that were at DIR before certkeep (a plain directory, as certbot or an old
// `certkeep export` leaves it), and certkeep takes DIR over with its first deployment.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { type DeployFormat, normalSerial } from '../../src/deploy/index.ts';
import { layoutFiles } from '../../src/deploy/layout.ts';
import { makeTestCa } from '../deploy/certificates.ts';
import { servedSerial } from '../rig/https.ts';
import type { WebServer, WebServerCase } from '../rig/web-server-cases.ts';
import type { Rig } from './harness.ts';

/** Files for `names` at `directory` in `format`, as a plain directory: what the web server starts on. */
export async function placeholderFiles(
  root: string,
  directory: string,
  format: DeployFormat,
  certificateName: string,
  names: string[],
): Promise<string> {
  const ca = await makeTestCa(await made(join(root, 'placeholder-ca')));
  const bundle = await ca.issue(names, { certificateName });
  await mkdir(directory, { recursive: true });
  for (const file of layoutFiles(format, bundle))
    await writeFile(join(directory, file.name), file.content, { mode: file.secret ? 0o600 : 0o644 });
  return normalSerial(bundle.serial);
}

/** Starts the web server on placeholder files at `directory`; its first serial is the placeholder's. */
export async function startOnPlaceholder(
  server: WebServerCase,
  root: string,
  directory: string,
  certificateName: string,
  names: string[],
): Promise<WebServer> {
  const placeholder = await placeholderFiles(root, directory, server.format, certificateName, names);
  const running = await server.start(directory, certificateName);
  assert.equal(await servedSerial(running.port, names[0]), placeholder);
  return running;
}

/** The serial the certificate's current version has, as `certkeep show` says, in the served form. */
export async function currentSerial(rig: Rig, name: string): Promise<string> {
  const shown = await rig.certkeep(['show', name, '--json']);
  assert.equal(shown.code, 0, shown.stderr);
  return normalSerial(shown.json().serial);
}

/** Every name's serial as served on `port`. */
export async function servedSerials(port: number, names: string[]): Promise<string[]> {
  return Promise.all(names.map((name) => servedSerial(port, name)));
}

export interface StoredEvent {
  type: string;
  payload: Record<string, unknown>;
}

/** The deployment events in a data dir's SQLite file, oldest first (read-only, beside a running process). */
export function deploymentEvents(dataDir: string): StoredEvent[] {
  return readDatabase(dataDir, (db) =>
    (
      db.prepare("SELECT type, payload FROM events WHERE type LIKE 'deployment.%' ORDER BY id").all() as {
        type: string;
        payload: string;
      }[]
    ).map((row) => ({
      type: row.type,
      payload: JSON.parse(row.payload),
    })),
  );
}

/** The deployments stored in a data dir, with their versions' serials, oldest first. */
export function storedDeployments(
  dataDir: string,
): { serial: string; status: string; attempts: number; error: string | null }[] {
  return readDatabase(
    dataDir,
    (db) =>
      db
        .prepare(
          'SELECT v.serial, d.status, d.attempts, d.error FROM deployments d JOIN certificate_versions v ON v.id = d.version_id ORDER BY d.created_at',
        )
        .all() as { serial: string; status: string; attempts: number; error: string | null }[],
  );
}

function readDatabase<T>(dataDir: string, read: (db: DatabaseSync) => T): T {
  const db = new DatabaseSync(join(dataDir, 'certkeep.db'), { readOnly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

async function made(directory: string): Promise<string> {
  await mkdir(directory, { recursive: true });
  return directory;
}

/** `certkeep issue -d NAME --deploy-to DIR --reload … --verify …` for a web server on loopback; fails the test unless it deployed. */
export async function issueDeployedTo(
  rig: Rig,
  name: string,
  directory: string,
  server: WebServer,
): Promise<void> {
  const issued = await rig.certkeep([
    'issue',
    '-d',
    name,
    '--http-port',
    String(rig.httpPort),
    '--deploy-to',
    directory,
    '--reload',
    server.reloadCommand,
    '--verify',
    `127.0.0.1:${server.port}`,
  ]);
  assert.equal(issued.code, 0, issued.stdout + issued.stderr);
}
