// What certkeep tells Prometheus: counters and histograms the server updates as
// it works (ACME requests, orders, DNS propagation, deliveries, the process),
// and the per-certificate gauges, which are not kept in memory at all: they are
// written at scrape time from one read of the store (certificates.ts), so that
// 100,000 certificates cost nothing between scrapes. Names follow cert-manager's
// (certmanager_… → certkeep_…) so that its dashboards and alerts adapt.
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { type CertificateGaugeRow, CertificateGauges } from './certificates.ts';

/** How an order run ended: the certificate stored, the order given up, or a failure that is tried again later. */
export type OrderOutcome = 'valid' | 'invalid' | 'retrying';
/** A webhook or mail attempt: delivered, failed and tried again later, or given up. */
export type DeliveryOutcome = 'delivered' | 'retrying' | 'failed';

/** Where the per-certificate gauges come from at scrape time: every live certificate, in one read. */
export type CertificateGaugeSource = () => Promise<CertificateGaugeRow[]>;

/** Rows written between two turns of the event loop (about 30 ms of work): requests in between are not held up by a scrape. */
const ROWS_PER_TURN = 5_000;

// Seconds: an ACME request is tens of milliseconds to tens of seconds (a CA under load, retries).
const ACME_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
// DNS propagation takes seconds to minutes (secondaries' refresh, provider APIs).
const PROPAGATION_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

export class CertkeepMetrics {
  readonly registry = new Registry();
  readonly #certificates: CertificateGaugeSource;
  readonly #now: () => number;
  readonly #acmeRequests = new Histogram({
    name: 'certkeep_http_acme_client_request_duration_seconds',
    help: 'The HTTP request latencies in seconds for the ACME client, by CA directory, endpoint and status (0: no answer).',
    labelNames: ['ca', 'endpoint', 'status'],
    buckets: ACME_BUCKETS,
    registers: [this.registry],
  });
  readonly #orders = new Counter({
    name: 'certkeep_orders_total',
    help: 'Order runs that ended, by CA directory and outcome (valid, invalid: given up, retrying: failed and tried again later).',
    labelNames: ['ca', 'outcome'],
    registers: [this.registry],
  });
  readonly #propagation = new Histogram({
    name: 'certkeep_dns_propagation_seconds',
    help: 'Time from writing a DNS-01 record until every authoritative server served it, by DNS provider and outcome.',
    labelNames: ['provider', 'outcome'],
    buckets: PROPAGATION_BUCKETS,
    registers: [this.registry],
  });
  readonly #webhooks = new Counter({
    name: 'certkeep_webhook_deliveries_total',
    help: 'Webhook delivery attempts, by outcome (delivered, retrying, failed: given up).',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly #mail = new Counter({
    name: 'certkeep_mail_deliveries_total',
    help: 'Notification mails, by outcome (delivered, retrying).',
    labelNames: ['outcome'],
    registers: [this.registry],
  });

  constructor(options: { certificates: CertificateGaugeSource; now?: () => number }) {
    this.#certificates = options.certificates;
    this.#now = options.now ?? Date.now;
    collectDefaultMetrics({ register: this.registry });
    // Every outcome from the start: an alert on a rate needs the series before the first failure.
    for (const outcome of ['delivered', 'retrying', 'failed']) this.#webhooks.inc({ outcome }, 0);
    for (const outcome of ['delivered', 'retrying']) this.#mail.inc({ outcome }, 0);
  }

  acmeRequest(ca: string, endpoint: string, status: number, seconds: number): void {
    this.#acmeRequests.observe({ ca, endpoint: endpointLabel(endpoint), status: String(status) }, seconds);
  }

  orderEnded(ca: string, outcome: OrderOutcome): void {
    this.#orders.inc({ ca, outcome });
  }

  dnsPropagated(provider: string, outcome: 'visible' | 'timeout', seconds: number): void {
    this.#propagation.observe({ provider, outcome }, seconds);
  }

  webhookDelivery(outcome: DeliveryOutcome): void {
    this.#webhooks.inc({ outcome });
  }

  mailDelivery(outcome: Exclude<DeliveryOutcome, 'failed'>): void {
    this.#mail.inc({ outcome });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The whole exposition: the registry's metrics, then the certificates' gauges from one read of the store. */
  async scrape(): Promise<string> {
    const [registered, rows] = await Promise.all([this.registry.metrics(), this.#certificates()]);
    const gauges = new CertificateGauges(this.#now());
    for (let at = 0; at < rows.length; at += ROWS_PER_TURN) {
      if (at > 0) await nextTurn();
      gauges.add(rows.slice(at, at + ROWS_PER_TURN));
    }
    return `${registered}\n${gauges.text()}`;
  }
}

/**
 * The client's operation names ("new order") as label values (new_order): a fixed set, so the
 * label stays bounded. A nonce fetched for an operation ("new order (get a nonce)") is new_nonce.
 */
function endpointLabel(operation: string): string {
  if (operation.endsWith('(get a nonce)')) return 'new_nonce';
  return operation.replace(/ /g, '_');
}
