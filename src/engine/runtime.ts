// The server runtime over an engine: the order workers, the renewal scheduler,
// the deployer of this machine's deploy targets, retention, the HTTP-01 and
// TLS-ALPN-01 responders answering from the store, certkeep's challenge DNS
// server for delegated zones (answering from the store too), the Prometheus
// metrics listener, and the webhook and mail senders. `certkeep serve` opens it
// beside the API: first every listener (one that cannot open ends serve with
// nothing left running), then, once the API listens too, start() starts the
// work; stop() stops taking work, lets the orders in flight finish (or parks
// them at their stored step) and closes the listeners. Loaded only by the
// server: the other commands start without the senders.
import { type Address, addressText } from '../address.ts';
import { startHttpResponder } from '../challenges/http-responder.ts';
import { startTlsAlpnResponder } from '../challenges/tls-alpn-responder.ts';
import { startDelegatedDnsServer } from '../dns/providers/delegated/server.ts';
import { startWebhookDispatcher } from '../notify/dispatcher.ts';
import { type SmtpSettings, startEmailDispatcher } from '../notify/email.ts';
import { findKeyAuthorization } from '../store/repositories/challenge-tokens.ts';
import { ConflictError } from '../errors.ts';
import type { EngineContext, ProgressAbout } from './context.ts';
import type { Engine } from './engine.ts';
import { getCertificate } from '../store/repositories/certificates.ts';
import { getOrder } from '../store/repositories/orders.ts';
import type { RunOrderOptions } from './issuance.ts';
import { LocalDeployer } from './deployer.ts';
import { overduePass } from './agent-reports.ts';
import { Ticker } from '../time/ticker.ts';
import { Retention } from './retention.ts';
import { RenewalScheduler } from './scheduler.ts';
import { storedTlsAlpnAnswers } from './solvers.ts';
import { OrderWorker } from './worker.ts';
import { storedChallengeAnswers } from './zones.ts';
import { watchEngine } from './metrics.ts';
import { startMetricsListener } from '../metrics/listener.ts';

/** How far each overdue pass reads back into the last one's window (idempotent: once per target and version). */
const OVERDUE_MARGIN_MS = 5 * 60_000;

/** Where the runtime reports what goes wrong in the background (pino's signature, as the API's logger has it). */
export interface RuntimeLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export const DEFAULT_DEPLOY_OVERDUE_MS = 30 * 60_000;

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
  /** Where GET /metrics answers (serve --metrics-listen); none: no metrics are kept. */
  metrics?: Address;
  /** How long after a version is stored a target not on it raises deployment.overdue (default 30 minutes). */
  deployOverdueMs?: number;
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
  /** host:port of the metrics listener, null when there is none. */
  metrics: string | null;
  /** Starts the work: the workers, the scheduler, the senders. */
  start(): void;
  /** Stops taking work, lets the orders in flight finish (or parks them at their stored step), then closes the listeners. */
  stop(): Promise<void>;
}

/**
 * Opens the runtime's listeners, each refused as a ListenError naming its
 * option (httpChallenge, tlsAlpnChallenge, dns.listen); when one cannot open,
 * those opened before it are closed again. No work starts before start().
 */
export async function openServerRuntime(
  engine: Engine,
  options: ServerRuntimeOptions,
): Promise<ServerRuntime> {
  const { log } = options;
  const opened: (() => Promise<void>)[] = [];
  let responder: Awaited<ReturnType<typeof startHttpResponder>> | undefined;
  let tlsAlpnResponder: Awaited<ReturnType<typeof startTlsAlpnResponder>> | undefined;
  let dnsServer: Awaited<ReturnType<typeof startDelegatedDnsServer>> | undefined;
  let metricsAt: string | null = null;
  try {
    if (options.httpChallenge) {
      const at = options.httpChallenge;
      const open = await listening('httpChallenge', addressText(at), () =>
        startHttpResponder({
          ...at,
          tokens: { keyAuthorization: (token) => findKeyAuthorization(engine.store.db, token) },
        }),
      );
      opened.push(() => open.close());
      responder = open;
    }
    if (options.tlsAlpnChallenge) {
      const at = options.tlsAlpnChallenge;
      const open = await listening('tlsAlpnChallenge', addressText(at), () =>
        startTlsAlpnResponder({ ...at, answers: storedTlsAlpnAnswers(engine), option: '--tls-alpn-listen' }),
      );
      opened.push(() => open.close());
      tlsAlpnResponder = open;
    }
    // Delegated zones' challenge values, answered from the store for every subscription and every instance's orders (zones.ts).
    if (options.dns) {
      const { listen, zone } = options.dns;
      const open = await listening('dns.listen', listen, () => startDelegatedDnsServer({ listen, zone, records: storedChallengeAnswers(engine) }));
      opened.push(() => open.stop());
      dnsServer = open;
    }
    if (options.metrics) {
      const at = options.metrics;
      const metrics = watchEngine(engine);
      const open = await listening('metrics', addressText(at), () =>
        startMetricsListener(metrics, at.host, at.port, (error) => log.error({ error: (error as Error).message }, 'metrics scrape failed')),
      );
      opened.push(() => open.close());
      metricsAt = addressText({ host: at.host, port: open.port });
    }
  } catch (error) {
    for (const close of opened.reverse()) await close().catch(() => {});
    throw error;
  }
  const worker = new OrderWorker(engine, engine.solvers, {
    concurrency: options.workers,
    leaseMs: options.leaseMs,
    afterStep: options.afterStep,
    onError: (orderId, error) => {
      void orderAbout(engine, orderId).then((about) => log.warn({ ...about, error: (error as Error).message }, 'order run failed'));
    },
  });
  const scheduler = new RenewalScheduler(engine, {
    intervalMs: options.renewEveryMs,
    stuckAfterMs: options.leaseMs,
    onError: (error, about) => log.warn({ ...about, error: (error as Error).message }, 'renewal failed'),
  });
  // This machine's deploy targets: after each version stored here, and every interval for the rest and for retries.
  const deployer = new LocalDeployer(engine, {
    intervalMs: options.renewEveryMs > 0 ? options.renewEveryMs : undefined,
    onError: (error) => log.warn({ error: (error as Error).message }, 'deployment'),
    onResult: (result) => {
      if (result.status === 'failed') log.warn({ certificate: result.certificate, directory: result.directory, error: result.error }, 'deployment failed');
    },
  });
  const retention = new Retention(engine, {
    days: options.retentionDays,
    onError: (error) => log.warn({ error: (error as Error).message }, 'retention'),
  });
  let senders: { stop(): Promise<void> }[] = [];
  const overdueMs = options.deployOverdueMs ?? DEFAULT_DEPLOY_OVERDUE_MS;
  // Looks for overdue targets often enough that one is reported within a tenth of the delay (at most a minute) of it.
  // Each pass reads what became due since the last one, less a margin for versions stored (committed) late by other instances.
  let overdueSince: number | undefined;
  const overdue = new Ticker(async () => {
    const { lookedUpTo } = await overduePass(engine, overdueMs, overdueSince);
    overdueSince = lookedUpTo - OVERDUE_MARGIN_MS;
  }, {
    clock: engine.clock,
    intervalMs: Math.min(60_000, Math.max(1000, overdueMs / 10)),
    onError: (error) => log.error({ err: error }, 'looking for overdue deployments failed'),
  });
  return {
    httpChallenge:
      responder && options.httpChallenge ? `${options.httpChallenge.host}:${responder.port}` : null,
    tlsAlpnChallenge:
      tlsAlpnResponder && options.tlsAlpnChallenge
        ? addressText({ host: options.tlsAlpnChallenge.host, port: tlsAlpnResponder.port })
        : null,
    dns: dnsServer?.address ?? null,
    metrics: metricsAt,
    start() {
      if (options.workers > 0) worker.start();
      if (options.renewEveryMs > 0) scheduler.start();
      deployer.start();
      overdue.start();
      retention.start();
      const { observer } = engine;
      const mailer = options.smtp
        ? startEmailDispatcher(engine, { smtp: options.smtp, log: (message, details = {}) => log.warn(details, message), onDelivery: (outcome) => observer.mailDelivery(outcome) })
        : undefined;
      const webhooks = startWebhookDispatcher(engine, {
        onError: (error) => log.error({ error: (error as Error).message }, 'webhook dispatcher'),
        onDelivery: (outcome) => observer.webhookDelivery(outcome),
      });
      senders = [webhooks, ...(mailer ? [mailer] : [])];
    },
    async stop() {
      await scheduler.stop();
      await retention.stop();
      await worker.stop();
      await deployer.stop();
      await overdue.stop();
      for (const sender of senders) await sender.stop();
      for (const close of opened.reverse()) await close();
    },
  };
}

/** What an order's log line is about: its subscription, certificate name and id (only the id when the store cannot say). */
async function orderAbout(ctx: EngineContext, orderId: string): Promise<ProgressAbout> {
  try {
    const order = await getOrder(ctx.store.db, orderId);
    const certificate = order && (await getCertificate(ctx.store.db, order.certificate_id));
    return certificate ? { subscription: certificate.subscription_id, certificate: certificate.name, order: orderId } : { order: orderId };
  } catch {
    return { order: orderId };
  }
}

/** A listener that cannot open: the option that names it, where, and why, in one sentence. */
export class ListenError extends ConflictError {
  constructor(field: string, address: string, cause: unknown) {
    super(`${field}: cannot listen on ${address}: ${listenProblem(cause)}`, { field, cause });
    this.name = 'ListenError';
  }
}

/** Opens one listener; its failure is a ListenError naming `field` (the surface puts its own name for it in place). */
export async function listening<T>(field: string, address: string, open: () => Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (error) {
    throw new ListenError(field, address, error);
  }
}

function listenProblem(error: unknown): string {
  const code =
    (error as NodeJS.ErrnoException).code ??
    ((error as Error).cause as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'EADDRINUSE':
      return 'the port is already in use; stop what listens there, or give another address';
    case 'EACCES':
      return 'not allowed to listen there; ports below 1024 need root or CAP_NET_BIND_SERVICE';
    case 'EADDRNOTAVAIL':
      return 'this machine has no such address';
    default:
      return (error as Error).message;
  }
}
