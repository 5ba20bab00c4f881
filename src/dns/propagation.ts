// DNS-01 propagation check: ask every authoritative server directly (no
// recursion, no cache) until each one serves the TXT value. Polls fast at
// first (20 ms) and backs off to 1 s, so a local server is confirmed within
// milliseconds and a slow secondary is not hammered.
import { setTimeout as sleep } from 'node:timers/promises';
import { findAuthoritativeServers } from './authoritative.ts';
import type { LookupOptions } from './lookup.ts';
import { type DnsResponse, queryDns, txtValues } from './query.ts';

export { findAuthoritativeServers, findZoneApex } from './authoritative.ts';
export { challengeRecordName, resolveChallengeName } from './challenge-name.ts';

export interface PropagationOptions extends LookupOptions {
  /** Default 120000. */
  timeoutMs?: number;
}

const FIRST_DELAY_MS = 20;
const MAX_DELAY_MS = 1000;

export class PropagationTimeoutError extends Error {
  readonly fqdn: string;
  /** The servers that never served the value, with what they answered last. */
  readonly pending: { server: string; lastAnswer: string }[];
  constructor(
    fqdn: string,
    pending: { server: string; lastAnswer: string }[],
    total: number,
    timeoutMs: number,
  ) {
    const list = pending.map((entry) => `${entry.server} (${entry.lastAnswer})`).join(', ');
    super(
      `the TXT record at ${fqdn} did not show the challenge value within ${timeoutMs / 1000} s ` +
        `at ${pending.length} of ${total} nameservers: ${list} — check that the DNS provider writes to the zone ` +
        'these servers serve, or allow more time (propagation timeout)',
    );
    this.name = 'PropagationTimeoutError';
    this.fqdn = fqdn;
    this.pending = pending;
  }
}

/** Resolves once every server (given, or the zone's authoritative ones) serves `value` at `fqdn`. */
export async function waitForTxt(
  fqdn: string,
  value: string,
  opts: PropagationOptions = {},
): Promise<{ elapsedMs: number }> {
  const started = performance.now();
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const servers = opts.nameservers?.length ? opts.nameservers : await findAuthoritativeServers(fqdn, opts);
  const deadline = started + timeoutMs;
  const results = await Promise.all(
    servers.map((server) => pollServer(server, fqdn, value, deadline, opts.signal)),
  );
  const pending = results.filter((result) => !result.seen);
  if (pending.length > 0) throw new PropagationTimeoutError(fqdn, pending, servers.length, timeoutMs);
  return { elapsedMs: performance.now() - started };
}

interface PollResult {
  server: string;
  seen: boolean;
  lastAnswer: string;
}

async function pollServer(
  server: string,
  fqdn: string,
  value: string,
  deadline: number,
  signal?: AbortSignal,
): Promise<PollResult> {
  let delay = FIRST_DELAY_MS;
  let lastAnswer = 'no answer';
  for (;;) {
    const remaining = deadline - performance.now();
    try {
      const timeoutMs = Math.min(MAX_DELAY_MS, Math.max(remaining, 50));
      const response = await queryDns(server, fqdn, 'TXT', { timeoutMs, udpAttempts: 1, signal });
      if (txtValues(response.answers, fqdn).includes(value))
        return { server, seen: true, lastAnswer: 'seen' };
      lastAnswer = describe(response, fqdn);
    } catch (error) {
      signal?.throwIfAborted();
      lastAnswer = error instanceof Error ? error.message : String(error);
    }
    const left = deadline - performance.now();
    if (left <= 0) return { server, seen: false, lastAnswer };
    await pause(Math.min(delay, left), signal);
    delay = Math.min(delay * 2, MAX_DELAY_MS);
  }
}

/** Sleeps; an abort rejects with the signal's own reason (timers/promises would wrap it). */
async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch (error) {
    signal?.throwIfAborted();
    throw error;
  }
}

function describe(response: DnsResponse, fqdn: string): string {
  if (response.rcode !== 'NOERROR') return `answered ${response.rcode}`;
  const others = txtValues(response.answers, fqdn).length;
  return others === 0 ? 'answered with no TXT record' : `answered ${others} other TXT value(s)`;
}
