// The e2e rig: BIND serving example.test (every name → 127.0.0.1) and Pebble
// validating through it, plus a way to run the real CLI as a user would.
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { delegationTarget } from '../../src/dns/providers/delegated/delegated.ts';
import { type BindOptions, startBind, type Bind } from '../../src/rig/bind.ts';
import { startPebble, type Pebble, type PebbleOptions } from '../../src/rig/pebble.ts';
import { startNginx } from '../rig/nginx.ts';
import { freePort } from '../../src/rig/ports.ts';
import { tempDir } from '../rig/tmp.ts';

export const ZONE = 'example.test';
const CLI = new URL('../../src/main.ts', import.meta.url).pathname;

export interface Rig {
  bind: Bind;
  pebble: Pebble;
  httpPort: number;
  dataDir: string;
  stop(): Promise<void>;
  /** Runs `certkeep ARGS` against this rig's Pebble and data dir. */
  certkeep(args: string[], options?: { env?: Record<string, string>; dataDir?: string }): Promise<CliResult>;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read the CLI's JSON documents loosely
  json(): any;
}

/** Starts a rig; the caller stops it (register `after(() => rig.stop())` in the suite). */
export async function startRig(options: { pebble?: PebbleOptions; bind?: BindOptions } = {}): Promise<Rig> {
  const bind = await startBind({ zones: [ZONE], ...options.bind });
  const httpPort = await freePort();
  const pebble = await startPebble({ dnsServer: bind.address, httpPort, ...options.pebble });
  const data = await tempDir('certkeep-e2e-');
  return {
    async stop() {
      await pebble.stop();
      await bind.stop();
      await data.remove();
    },
    bind,
    pebble,
    httpPort,
    dataDir: data.path,
    certkeep: (args, runOptions = {}) =>
      runCli(args, {
        CERTKEEP_DATA_DIR: runOptions.dataDir ?? data.path,
        CERTKEEP_CA: pebble.directoryUrl,
        CERTKEEP_CA_CERT: pebble.caCertFile,
        ...runOptions.env,
      }),
  };
}

/**
 * A rig whose HTTP-01 port is nginx serving `webroot`: answers placed with
 * --webroot outlive the process that placed them, and several processes can
 * answer at once. The caller stops it.
 */
export async function startWebrootRig(): Promise<{ rig: Rig; webroot: string; stop(): Promise<void> }> {
  const rig = await startRig();
  const webroot = join(rig.dataDir, 'www');
  try {
    await mkdir(webroot);
    const nginx = await startNginx({ root: webroot, port: rig.httpPort });
    return {
      rig,
      webroot,
      async stop() {
        await nginx.stop();
        await rig.stop();
      },
    };
  } catch (error) {
    await rig.stop();
    throw error;
  }
}

export function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({
        code,
        signal,
        stdout,
        stderr,
        json: () => {
          try {
            return JSON.parse(stdout);
          } catch {
            throw new Error(`stdout is not one JSON document:\n${stdout}\nstderr:\n${stderr}`);
          }
        },
      }),
    );
  });
}

/** Exactly one line on stderr (besides notes such as the one about a missing --email), and no stack trace. */
export function oneLine(stderr: string): string {
  const lines = stderr
    .trim()
    .split('\n')
    .filter((line) => !line.startsWith('note: '));
  if (lines.length !== 1 || /\n\s+at /.test(stderr)) throw new Error(`expected one line on stderr, got:\n${stderr}`);
  return lines[0];
}

/** A certificate's orders as stored in a data dir's SQLite file (read-only, beside a running process). */
export function ordersOf(dataDir: string, name: string): { step: string; order_url: string | null }[] {
  const db = new DatabaseSync(join(dataDir, 'certkeep.db'), { readOnly: true });
  try {
    return db
      .prepare('SELECT o.step, o.order_url FROM orders o JOIN certificates c ON c.id = o.certificate_id WHERE c.name = ? ORDER BY o.created_at')
      .all(name) as { step: string; order_url: string | null }[];
  } finally {
    db.close();
  }
}

/** The zone-file line (relative to ZONE) a user creates once to delegate `name`'s challenges to `delegationZone`. */
export function delegationCname(name: string, delegationZone: string): string {
  const { record, target } = delegationTarget(name, delegationZone);
  return `${record.slice(0, -(ZONE.length + 1))} IN CNAME ${target}.`;
}
