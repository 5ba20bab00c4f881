// The proof of a deployment: TLS handshakes with each verify address, SNI set to each name on the
// certificate, until every one serves the expected serial or the time is up. A graceful reload
// leaves old workers accepting for a while (nginx's for about 100 ms here), so one good handshake
// proves little: a pair counts once it served the serial in every handshake of two rounds in a
// row. Rounds back off from 50 ms to 1 s; a pair that is proven is not asked again.
import { isIP } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'node:tls';
import { type Address, parseAddress } from '../address.ts';
import { normalSerial } from './bundle.ts';
import { seconds } from './commands.ts';

const FIRST_RETRY_MS = 50;
const MAX_RETRY_MS = 1000;
const HANDSHAKE_TIMEOUT_MS = 5000;
const CONCURRENT_HANDSHAKES = 4;
const HANDSHAKES_PER_ROUND = 3;
const ROUNDS_TO_PROVE = 2;

export type VerifyResult = { ok: true; at: Date } | { ok: false; reason: string };

interface Probe {
  address: string;
  hostPort: Address;
  /** undefined: no SNI (the certificate names an IP address). */
  servername: string | undefined;
  /** Rounds in a row in which only the expected serial was served. */
  streak: number;
  last: string;
}

/**
 * Waits until every address serves `serial` for every name. `describe` words a pair still wrong:
 * by default "127.0.0.1:8443 still serves serial X for www.example.com".
 */
export async function verifyServed(
  addresses: string[],
  names: string[],
  serial: string,
  timeoutMs: number,
  describe: (address: string, served: string, name: string) => string = stillServes,
): Promise<VerifyResult> {
  const expected = normalSerial(serial);
  let pending = probesFor(addresses, names);
  const deadline = Date.now() + timeoutMs;
  let wait = FIRST_RETRY_MS;
  for (;;) {
    const remaining = deadline - Date.now();
    const outcomes = await mapLimited(pending, CONCURRENT_HANDSHAKES, (probe) =>
      round(probe, expected, Math.max(1, Math.min(HANDSHAKE_TIMEOUT_MS, remaining))),
    );
    pending = pending.filter((probe, i) => {
      const outcome = outcomes[i];
      if (outcome === undefined) return ++probe.streak < ROUNDS_TO_PROVE;
      probe.streak = 0;
      probe.last =
        'serial' in outcome
          ? describe(probe.address, outcome.serial, probe.servername ?? probe.hostPort.host)
          : `${probe.address} did not complete a TLS handshake for ${probe.servername ?? probe.hostPort.host}: ${outcome.error}`;
      return true;
    });
    if (pending.length === 0) return { ok: true, at: new Date() };
    if (Date.now() + wait > deadline) return { ok: false, reason: summary(pending, timeoutMs) };
    await sleep(wait);
    wait = Math.min(MAX_RETRY_MS, wait * 2);
  }
}

function stillServes(address: string, served: string, name: string): string {
  return `${address} still serves serial ${served} for ${name}`;
}

function probesFor(addresses: string[], names: string[]): Probe[] {
  const servernames = [...new Set(names.map((name) => (isIP(name) ? '' : name.replace(/^\*\./, ''))))];
  return addresses.flatMap((address) =>
    servernames.map((name) => ({
      address,
      hostPort: parseAddress(address, 'verify'),
      servername: name || undefined,
      streak: 0,
      last: '',
    })),
  );
}

function summary(pending: Probe[], timeoutMs: number): string {
  const shown = pending.slice(0, 3).map((probe) => probe.last);
  const more = pending.length > 3 ? ` (and ${pending.length - 3} more)` : '';
  return `${shown.join('; ')}${more} (checked for ${seconds(timeoutMs)})`;
}

type Served = { serial: string } | { error: string };

/** A round of handshakes for one pair: undefined when every one served `expected`, else the first that did not. */
async function round(probe: Probe, expected: string, timeoutMs: number): Promise<Served | undefined> {
  for (let i = 0; i < HANDSHAKES_PER_ROUND; i++) {
    const served = await servedSerial(probe, timeoutMs);
    if (!('serial' in served) || served.serial !== expected) return served;
  }
  return undefined;
}

function servedSerial(probe: Probe, timeoutMs: number): Promise<Served> {
  return new Promise((resolve) => {
    const socket = connect({
      host: probe.hostPort.host,
      port: probe.hostPort.port,
      servername: probe.servername ?? '',
      rejectUnauthorized: false,
    });
    const finish = (served: Served) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(served);
    };
    const timer = setTimeout(() => finish({ error: `no answer within ${timeoutMs} ms` }), timeoutMs);
    socket.once('secureConnect', () => {
      const serial = socket.getPeerCertificate()?.serialNumber;
      finish(serial ? { serial: normalSerial(serial) } : { error: 'no certificate was sent' });
    });
    socket.once('error', (error: NodeJS.ErrnoException) => finish({ error: error.code ?? error.message }));
  });
}

async function mapLimited<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
