// Starting a web server for the deploy tests (Apache, HAProxy) tied to the test process, so it dies
// with it, and waiting until it answers HTTPS with a marker only this instance knows.
import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { NOT_FOUND_EXIT, spawnTied, stopTied } from '../../src/rig/tied-process.ts';
import { httpsText } from './https.ts';
import { tempDir } from './tmp.ts';

const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;

export interface TiedServerOptions {
  /** For messages: 'apache2', 'haproxy'. */
  name: string;
  binary: string;
  args: string[];
  cwd: string;
  port: number;
  /** GET this path over HTTPS answers `marker` once the server is up. */
  readyPath: string;
  marker: string;
  /** A log file the server writes its start-up errors to, if not stderr. */
  errorLog?: string;
}

export interface TiedServer {
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function startTiedServer(opts: TiedServerOptions): Promise<TiedServer> {
  const child = spawnTied(opts.binary, opts.args, { cwd: opts.cwd, env: { ...process.env, LANG: 'C' } });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-8192);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = () => stopTied(child, exited, STOP_TIMEOUT_MS);
  const log = async () =>
    `${output}${opts.errorLog ? await readFile(opts.errorLog, 'utf8').catch(() => '') : ''}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const hint =
        child.exitCode === NOT_FOUND_EXIT ? ` (install ${opts.name}: npm test installs it as root)` : '';
      throw new Error(
        `${opts.name} exited (${child.signalCode ?? `code ${child.exitCode}`}) before serving${hint}:\n${await log()}`,
      );
    }
    if ((await httpsText(opts.port, opts.readyPath)) === opts.marker) return { child, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `${opts.name} did not serve on port ${opts.port} within ${START_TIMEOUT_MS} ms:\n${await log()}`,
      );
    }
    await sleep(20);
  }
}

/** Starts a server in a fresh temp dir, removed when the start fails or the server stops. */
export async function inTempDir<T extends { stop(): Promise<void> }>(
  prefix: string,
  start: (dir: string) => Promise<T>,
): Promise<T> {
  const dir = await tempDir(prefix);
  try {
    const server = await start(dir.path);
    return {
      ...server,
      async stop() {
        await server.stop();
        await dir.remove();
      },
    };
  } catch (error) {
    await dir.remove();
    throw error;
  }
}
