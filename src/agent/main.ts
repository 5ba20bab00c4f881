// certkeep agent: follows this host's targets on the server and keeps them on
// their current versions. It reads its targets, converges, then follows the
// server's stream of changes (server-sent events; long polling when the stream
// is not to be had) and converges again at each change. With the server
// unreachable it keeps what it has and retries with backoff; a refused token
// is one line and exit 1. --once converges and exits, for cron.
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { processAlive } from '../deploy/index.ts';
import { CertkeepError } from '../errors.ts';
import { Converger, type TargetResult } from './converge.ts';
import { type AgentOptions, parseAgentOptions, USAGE } from './options.ts';
import { AgentRefused, type AssignmentList, ServerClient, ServerUnreachable, StreamUnavailable } from './server-client.ts';

const FIRST_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 15_000;
/** How long the stream is left aside after it proved unavailable, before it is tried again. */
const POLL_INSTEAD_MS = 10 * 60_000;
const POLL_WAIT_S = 25;

/** Runs the agent with its options (the arguments after `agent`); resolves with the exit code. */
export async function runAgent(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let options: AgentOptions;
  try {
    options = parseAgentOptions(argv, env);
  } catch (error) {
    process.stderr.write(`certkeep agent: ${(error as Error).message}\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const release = await holdStateDir(options.stateDir).catch((error: Error) => error);
  if (release instanceof Error) {
    process.stderr.write(`certkeep agent: ${release.message}\n`);
    return 1;
  }
  const client = new ServerClient(options.server, options.token, options.serverCa);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    const converger = new Converger(options, client, log);
    if (options.once) return await runOnce(client, converger);
    await follow(client, converger, log, stop.signal);
    return 0;
  } catch (error) {
    if (error instanceof AgentRefused) {
      process.stderr.write(`certkeep agent: ${error.message}; enrol the agent again or rotate its token (certkeep admin agent rotate ID)\n`);
      return 1;
    }
    const message = error instanceof CertkeepError || error instanceof ServerUnreachable ? error.message : String((error as Error)?.stack ?? error);
    process.stderr.write(`certkeep agent: ${message}\n`);
    return 1;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    client.close();
    await release();
  }
}

async function runOnce(client: ServerClient, converger: Converger): Promise<number> {
  const { targets } = await client.targets();
  const results = await converger.converge(targets, true);
  for (const result of results) if (result.status === 'refused') process.stderr.write(`certkeep agent: ${result.certificate} → ${result.to}: ${result.error}\n`);
  return results.some(failed) ? 1 : 0;
}

function failed(result: TargetResult): boolean {
  return result.status === 'failed' || result.status === 'refused';
}

/** Follows the server until stopped: the stream when it is there, the long poll when not, backoff while unreachable. */
async function follow(client: ServerClient, converger: Converger, log: (line: string) => void, signal: AbortSignal): Promise<void> {
  let latest: AssignmentList | undefined;
  let converging: Promise<void> | undefined;
  let again = false;
  let refused: AgentRefused | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  const stopFollowing = new AbortController();
  signal.addEventListener('abort', () => stopFollowing.abort(), { once: true });
  const converge = (list: AssignmentList) => {
    latest = list;
    if (converging) {
      again = true;
      return;
    }
    let delay = 0;
    converging = converger
      .converge(list.targets)
      .then(() => undefined)
      .catch((error: Error) => {
        if (error instanceof AgentRefused) {
          refused = error;
          stopFollowing.abort();
          return;
        }
        log(`could not finish: ${error.message}; trying again`);
        again = true;
        delay = 2000;
      })
      .finally(() => {
        converging = undefined;
        scheduleRetry();
        if (again && latest && !stopFollowing.signal.aborted) {
          again = false;
          setTimeout(() => latest && converge(latest), delay).unref();
        }
      });
  };
  const scheduleRetry = () => {
    clearTimeout(retryTimer);
    const at = converger.nextRetryAt();
    if (at === undefined || stopFollowing.signal.aborted) return;
    retryTimer = setTimeout(() => latest && converge(latest), Math.max(0, at - Date.now()));
    retryTimer.unref();
  };
  let backoff = FIRST_BACKOFF_MS;
  let pollUntil = 0;
  let reachable = true;
  signal = stopFollowing.signal;
  while (!signal.aborted) {
    try {
      if (Date.now() < pollUntil) {
        const list = await client.changes(latest?.digest ?? '', POLL_WAIT_S, signal);
        if (list) converge(list);
      } else {
        await client.stream(converge, signal);
      }
      if (!reachable) log('the server is reachable again');
      reachable = true;
      backoff = FIRST_BACKOFF_MS;
    } catch (error) {
      if (signal.aborted) break;
      if (error instanceof AgentRefused) throw error;
      if (error instanceof StreamUnavailable) {
        log(`${error.message}: following the server by long polling`);
        pollUntil = Date.now() + POLL_INSTEAD_MS;
        continue;
      }
      if (reachable) log(`${(error as Error).message}; keeping what is deployed and trying again`);
      reachable = false;
      await sleep(backoff * (0.8 + Math.random() * 0.4), signal);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  }
  clearTimeout(retryTimer);
  // A deployment in flight finishes (its files are switched atomically either way) before the agent exits.
  await converging?.catch(() => {});
  if (refused) throw refused;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

/** One agent per state directory: its lock file names the process; a lock whose process is gone is taken over. */
async function holdStateDir(dir: string): Promise<() => Promise<void>> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const lock = join(dir, 'agent.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(lock, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(lock, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`--state-dir: cannot use ${dir}: ${(error as Error).message}`);
      const pid = Number((await readFile(lock, 'utf8').catch(() => '')).trim());
      if (pid > 0 && pid !== process.pid && processAlive(pid)) throw new Error(`another certkeep agent (pid ${pid}) uses --state-dir ${dir}`);
      await rm(lock, { force: true });
    }
  }
  throw new Error(`--state-dir: cannot take ${lock}`);
}
