// The `exec` DNS-01 provider: hands each record to a user's script, with
// lego's exec convention so existing lego scripts work unchanged:
//   COMMAND present _acme-challenge.example.test. VALUE
//   COMMAND cleanup _acme-challenge.example.test. VALUE
// The name carries a trailing dot (lego passes it that way). No shell is
// involved: the arguments reach the script as they are.
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { type DnsProvider, type ProviderDefinition, ProviderSettingsError, requireSettings, type TxtRecord } from '../../provider.ts';

export interface ExecProviderOptions {
  /** Path of the program to run (PATH is searched when it has no slash). */
  command: string;
  /** Kill the program after this long; default 60 s. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const OUTPUT_TAIL_BYTES = 4096;
const ERROR_TAIL_LINES = 5;

export function createExecProvider(options: ExecProviderOptions): DnsProvider {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return {
    present: (record) => runHook(options.command, 'present', record, timeoutMs),
    cleanup: (record) => runHook(options.command, 'cleanup', record, timeoutMs),
  };
}

export const execProvider: ProviderDefinition = {
  name: 'exec',
  description: 'runs your script as `COMMAND present|cleanup FQDN. VALUE` (lego exec convention)',
  required: { command: 'path of the script or program to run' },
  optional: {
    timeout: `seconds to wait for the command before killing it (default ${DEFAULT_TIMEOUT_MS / 1000})`,
  },
  secrets: [],
  create(config) {
    const settings = requireSettings(execProvider, config);
    return createExecProvider({ command: settings.command, timeoutMs: parseTimeout(settings.timeout) });
  },
};

function parseTimeout(seconds: string | undefined): number | undefined {
  if (seconds === undefined || seconds.trim() === '') return undefined;
  const value = Number(seconds);
  if (!Number.isFinite(value) || value <= 0) {
    throw new ProviderSettingsError(`exec DNS provider: timeout "${seconds}" is not a positive number of seconds`, 'timeout');
  }
  return value * 1000;
}

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  output: string;
}

async function runHook(command: string, action: 'present' | 'cleanup', record: TxtRecord, timeoutMs: number) {
  const fqdn = `${record.fqdn.replace(/\.$/, '')}.`;
  const what = `exec DNS provider: ${command} ${action} ${fqdn}`;
  let outcome: Outcome;
  try {
    outcome = await run(command, [action, fqdn, record.value], timeoutMs);
  } catch (error) {
    throw await startError(command, error as NodeJS.ErrnoException);
  }
  if (outcome.timedOut) throw new Error(`${what} did not finish within ${timeoutMs / 1000} s and was killed`);
  if (outcome.code !== 0) {
    const status =
      outcome.code === null ? `was killed by ${outcome.signal}` : `failed with exit code ${outcome.code}`;
    throw new Error(`${what} ${status}${outcome.output ? `: ${outcome.output}` : ' (no output)'}`);
  }
}

/**
 * Runs the program in its own process group so a timeout kills what it started
 * too (a lingering child would keep the pipes, and us, waiting).
 */
function run(command: string, args: string[], timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: scriptEnv(),
    });
    const stdout = tailCollector();
    const stderr = tailCollector();
    child.stdout.on('data', stdout.add);
    child.stderr.on('data', stderr.add);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, output: lastLines(stderr.text() || stdout.text()) });
    });
  });
}

function killGroup(pid: number | undefined) {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** The script gets our environment minus certkeep's own (the master key must not leak to hooks). */
function scriptEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('CERTKEEP_')));
}

async function startError(command: string, error: NodeJS.ErrnoException): Promise<Error> {
  const prefix = `exec DNS provider: cannot run ${command}`;
  if (error.code === 'EACCES') {
    return new Error(`${prefix}: it is not executable (chmod +x it, or check it is not a directory)`);
  }
  if (error.code === 'ENOENT') {
    const exists = await stat(command).then(
      () => true,
      () => false,
    );
    return new Error(
      exists
        ? `${prefix}: its interpreter (the #! line) was not found`
        : `${prefix}: no such file — check the command setting (an absolute path is safest)`,
    );
  }
  return new Error(`${prefix}: ${error.message}`);
}

function tailCollector() {
  let tail = Buffer.alloc(0);
  return {
    add: (chunk: Buffer) => {
      tail = Buffer.concat([tail, chunk]);
      if (tail.length > OUTPUT_TAIL_BYTES) tail = tail.subarray(tail.length - OUTPUT_TAIL_BYTES);
    },
    text: () => tail.toString('utf8').trim(),
  };
}

function lastLines(text: string): string {
  return text.split('\n').slice(-ERROR_TAIL_LINES).join('\n');
}
