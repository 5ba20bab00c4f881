// Hooks and reloads: the operator's command line run through /bin/sh -c, in a process group of its
// own so that a timeout stops everything it started; its stderr tail is the reason when it fails.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

const STDERR_TAIL_CHARS = 2000;
const REASON_TAIL_CHARS = 600;
const KILL_GRACE_MS = 2000;
/** How long output may still arrive after the shell exited (a daemon it started may hold the pipe). */
const DRAIN_MS = 200;

export type CommandResult = { ok: true } | { ok: false; reason: string };

/** Runs `command` with exactly the environment `env`. */
export async function runCommand(
  command: string,
  env: Record<string, string>,
  timeoutMs: number,
): Promise<CommandResult> {
  const child = spawn('/bin/sh', ['-c', command], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let tail = '';
  child.stdout.resume();
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-STDERR_TAIL_CHARS);
  });
  const closed = once(child.stderr, 'close').catch(() => undefined);
  const exited = exitOf(child);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child.pid, 'SIGTERM');
    setTimeout(() => killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS).unref();
  }, timeoutMs);
  const exit = await exited;
  clearTimeout(timer);
  await Promise.race([closed, sleep(DRAIN_MS)]);
  child.stdout.destroy();
  child.stderr.destroy();
  if (exit.error) return { ok: false, reason: `could not run /bin/sh: ${exit.error.message}` };
  if (timedOut)
    return {
      ok: false,
      reason: `did not finish within ${seconds(timeoutMs)} and was stopped${withTail(tail)}`,
    };
  if (exit.code === 0) return { ok: true };
  const how = exit.code !== null ? `exited ${exit.code}` : `was killed by ${exit.signal}`;
  return { ok: false, reason: `${how}${withTail(tail)}` };
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

function exitOf(child: ReturnType<typeof spawn>): Promise<Exit> {
  return new Promise((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {}
}

/** The last lines of stderr on one line, for a reason that fits a log line or a table cell. */
function withTail(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const text = lines.join(' | ');
  if (!text) return '';
  return `: ${text.length > REASON_TAIL_CHARS ? `…${text.slice(-REASON_TAIL_CHARS)}` : text}`;
}

/** A duration for a reason: "30 s", "0.3 s". */
export function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}
