// The server runtime over an engine: the order workers, the renewal scheduler,
// retention, the HTTP-01 and TLS-ALPN-01 responders answering from the store, certkeep's
// challenge DNS server for delegated zones, and the webhook and mail senders. `certkeep
// serve` starts it beside the API; stop() stops taking work, lets the orders in
// flight finish (or parks them at their stored step) and closes the listeners.
// Loaded only by the server: the other commands start without the senders.
import { type Address, addressText } from '../address.ts';
import { startHttpResponder } from '../challenges/http-responder.ts';
import { startTlsAlpnResponder } from '../challenges/tls-alpn-responder.ts';
import { challengeRecordSource, challengeValues } from '../dns/providers/delegated/delegated.ts';
import { startDelegatedDnsServer } from '../dns/providers/delegated/server.ts';
import { startWebhookDispatcher } from '../notify/dispatcher.ts';
import { type SmtpSettings, startEmailDispatcher } from '../notify/email.ts';
import { findKeyAuthorization } from '../store/repositories/challenge-tokens.ts';
import type { Engine } from './engine.ts';
import type { RunOrderOptions } from './issuance.ts';
import { Retention } from './retention.ts';
import { RenewalScheduler } from './scheduler.ts';
import { storedTlsAlpnAnswers } from './solvers.ts';
import { OrderWorker } from './worker.ts';

/** Where the runtime reports what goes wrong in the background (pino's signature, as the API's logger has it). */
export interface RuntimeLog {
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface ServerRuntimeOptions {
  /** Orders this instance drives at once; 0: none (API and HTTP-01 only). */
  workers: number;
  /** How long a dead instance's orders wait before another resumes them. */
  leaseMs: number;
  /** How often the scheduler looks for due certificates; 0: never. */
  renewEveryMs: number;
  /** Age in days after which history that is no longer needed is removed (retention.ts). */
  retentionDays: number;
  /** Where HTTP-01 answers are served from the store; none: not here. */
  httpChallenge?: Address;
  /** Where TLS-ALPN-01 answers are served from the store (serve --tls-alpn-listen); none: not here. */
  tlsAlpnChallenge?: Address;
  /** certkeep's challenge DNS server for delegated zones: where it listens, the zone delegated to it. */
  dns?: { listen: string; zone: string };
  /** Notification mail; none: no mail. */
  smtp?: SmtpSettings;
  log: RuntimeLog;
  /** Seam for crash tests (RunOrderOptions.afterStep). */
  afterStep?: RunOrderOptions['afterStep'];
}

export interface ServerRuntime {
  /** host:port of the HTTP-01 responder, null when there is none. */
  httpChallenge: string | null;
  /** host:port of the TLS-ALPN-01 responder, null when there is none. */
  tlsAlpnChallenge: string | null;
  /** host:port of the challenge DNS server, null when there is none. */
  dns: string | null;
  stop(): Promise<void>;
}

export async function startServerRuntime(engine: Engine, options: ServerRuntimeOptions): Promise<ServerRuntime> {
  const { log } = options;
  const listeners = new Listeners();
  const responder = options.httpChallenge
    ? await listeners.open(startHttpResponder({ ...options.httpChallenge, tokens: { keyAuthorization: (token) => findKeyAuthorization(engine.store.db, token) } }))
    : undefined;
  const tlsAlpnResponder = options.tlsAlpnChallenge
    ? await listeners.open(startTlsAlpnResponder({ ...options.tlsAlpnChallenge, answers: storedTlsAlpnAnswers(engine), option: '--tls-alpn-listen' }))
    : undefined;
  // Delegated zones' challenge values, answered for every subscription (dns/providers/delegated).
  const dnsServer = options.dns
    ? await listeners.open(startDelegatedDnsServer({ listen: options.dns.listen, zone: options.dns.zone, records: challengeRecordSource(challengeValues) }))
    : undefined;
  const worker = new OrderWorker(engine, engine.solvers, {
    concurrency: options.workers,
    leaseMs: options.leaseMs,
    afterStep: options.afterStep,
    onError: (orderId, error) => log.warn({ orderId, error: (error as Error).message }, 'order run failed'),
  });
  if (options.workers > 0) worker.start();
  const scheduler = new RenewalScheduler(engine, { intervalMs: options.renewEveryMs, onError: (error) => log.warn({ error: (error as Error).message }, 'renewal') });
  if (options.renewEveryMs > 0) scheduler.start();
  const retention = new Retention(engine, { days: options.retentionDays, onError: (error) => log.warn({ error: (error as Error).message }, 'retention') });
  retention.start();
  const mailer = options.smtp ? startEmailDispatcher(engine, { smtp: options.smtp, log: (message) => log.warn({}, message) }) : undefined;
  const webhooks = startWebhookDispatcher(engine, { onError: (error) => log.error({ error: (error as Error).message }, 'webhook dispatcher') });
  return {
    httpChallenge: responder && options.httpChallenge ? `${options.httpChallenge.host}:${responder.port}` : null,
    tlsAlpnChallenge: tlsAlpnResponder && options.tlsAlpnChallenge ? addressText({ host: options.tlsAlpnChallenge.host, port: tlsAlpnResponder.port }) : null,
    dns: dnsServer?.address ?? null,
    async stop() {
      // Stop taking work, let the orders in flight finish (or park them at their stored step), then close the listeners.
      await scheduler.stop();
      await retention.stop();
      await worker.stop();
      await webhooks.stop();
      await mailer?.stop();
      await responder?.close();
      await tlsAlpnResponder?.close();
      await dnsServer?.stop();
    },
  };
}

/** The challenge listeners started so far: when the next cannot start, the open ones are closed, or their ports would keep the process alive. */
class Listeners {
  readonly #open: (() => Promise<void>)[] = [];

  async open<T extends { close(): Promise<void> } | { stop(): Promise<void> }>(starting: Promise<T>): Promise<T> {
    try {
      const listener = await starting;
      this.#open.push(() => ('close' in listener ? listener.close() : listener.stop()));
      return listener;
    } catch (error) {
      await Promise.allSettled(this.#open.map((close) => close()));
      throw error;
    }
  }
}
