// The server's Prometheus metrics over this engine: the metrics (metrics/)
// read the certificates' gauges from the store at scrape time, and become the
// engine's observer, so that requests, orders and propagation are counted.
import { CertkeepMetrics } from '../metrics/metrics.ts';
import { certificateDates } from '../store/repositories/metrics.ts';
import type { EngineContext } from './context.ts';

export function watchEngine(ctx: EngineContext): CertkeepMetrics {
  const metrics = new CertkeepMetrics({
    now: () => ctx.clock.now(),
    certificates: async () =>
      (await certificateDates(ctx.store.db)).map((row) => ({
        subscription: row.subscription_id,
        name: row.name,
        state: row.state,
        notAfter: row.not_after,
        renewalAt: row.next_renewal_at,
      })),
  });
  ctx.observer = metrics;
  return metrics;
}
