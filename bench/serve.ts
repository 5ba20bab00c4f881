// `certkeep serve` as its own process for the benchmarks that measure the
// server from outside: started with the given flags and environment, ready
// once /readyz answers, stopped with SIGTERM.
import { type ChildProcess, spawn } from 'node:child_process';
import { open, readFile } from 'node:fs/promises';

const CLI = new URL('../src/main.ts', import.meta.url).pathname;
const START_TIMEOUT_MS = 60_000;

export interface ServeProcess {
  child: ChildProcess;
  url: string;
}

/** Starts the server listening on 127.0.0.1:port with `args` after `serve`; its output goes to logFile. */
export async function startServe(options: {
  port: number;
  args?: string[];
  env: NodeJS.ProcessEnv;
  logFile: string;
  nodeArgs?: string[];
}): Promise<ServeProcess> {
  const log = await open(options.logFile, 'w');
  const listen = ['--listen', `127.0.0.1:${options.port}`];
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), CLI, 'serve', ...listen, ...(options.args ?? [])],
    {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', log.fd, log.fd],
    },
  );
  await log.close();
  const url = `http://127.0.0.1:${options.port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(
        `certkeep serve exited with ${child.exitCode}:\n${await readFile(options.logFile, 'utf8')}`,
      );
    try {
      if ((await fetch(`${url}/readyz`)).ok) return { child, url };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stopServe(child);
      throw new Error(
        `certkeep serve did not start in ${START_TIMEOUT_MS / 1000} s:\n${await readFile(options.logFile, 'utf8')}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function stopServe(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
