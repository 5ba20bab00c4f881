// What the engine reports as it works, for whoever watches (the server's
// Prometheus metrics, metrics/): ACME requests, ended orders, DNS propagation,
// deliveries. Nobody watches by default; `serve --metrics-listen` sets one.
import type { DeliveryOutcome, OrderOutcome } from '../metrics/metrics.ts';

export type { DeliveryOutcome, OrderOutcome } from '../metrics/metrics.ts';

export interface EngineObserver {
  acmeRequest(ca: string, endpoint: string, status: number, seconds: number): void;
  orderEnded(ca: string, outcome: OrderOutcome): void;
  dnsPropagated(provider: string, outcome: 'visible' | 'timeout', seconds: number): void;
  webhookDelivery(outcome: DeliveryOutcome): void;
  mailDelivery(outcome: Exclude<DeliveryOutcome, 'failed'>): void;
}

export const UNOBSERVED: EngineObserver = {
  acmeRequest() {},
  orderEnded() {},
  dnsPropagated() {},
  webhookDelivery() {},
  mailDelivery() {},
};
