// The renewal scheduler: each tick it opens an order for every certificate that
// is due (the order workers then drive it), raises expiry warnings as expiry
// nears, and asks CAs that speak ARI for their renewal windows. Instances that
// share a database claim certificates with a conditional update, so each due
// certificate gets one order, whichever instance sees it first.
import { currentIssuer, findIssuerAt } from './issuers.ts';
import {
  ariChecksDue,
  dueCertificates,
  getCertificate,
  getVersionDates,
  nearingExpiry,
  stuckCertificates,
  updateCertificate,
  updateVersion,
} from '../store/repositories/certificates.ts';
import { appendEvent } from '../store/repositories/events.ts';
import { AccountFailures } from './account-failures.ts';
import { ensureAccount } from './accounts.ts';
import type { EngineContext } from './context.ts';
import { autoRenews } from './issuance.ts';
import { whileClaimedDue, whileClaimedStuck } from './leases.ts';
import { Ticker } from '../time/ticker.ts';
import { startRenewal } from './orders.ts';
import { expiryWarning, FAILURES_PER_ISSUER, nextAriCheck, onTrack, plannedRenewal, retryTime, severity } from './planner.ts';
import { AcmeRateLimitError } from '../acme/index.ts';

export interface SchedulerOptions {
  /** Time between ticks (default 60 s). */
  intervalMs?: number;
  /** Certificates looked at per kind of work and tick. */
  batch?: number;
  /** How long a certificate may be issuing without an order before the scheduler gives it one (default 60 s). */
  stuckAfterMs?: number;
  onError?: (error: unknown) => void;
}

export interface TickReport {
  ordersOpened: number;
  /** Certificates found issuing without an order, given one. */
  repaired: number;
  warnings: number;
  ariChecked: number;
}

export class RenewalScheduler {
  readonly #ctx: EngineContext;
  readonly #batch: number;
  readonly #stuckAfterMs: number;
  readonly #onError: (error: unknown) => void;
  readonly #ticker: Ticker<TickReport>;

  constructor(ctx: EngineContext, options: SchedulerOptions = {}) {
    this.#ctx = ctx;
    this.#batch = options.batch ?? 500;
    this.#stuckAfterMs = options.stuckAfterMs ?? 60_000;
    this.#onError = options.onError ?? (() => {});
    this.#ticker = new Ticker(() => this.#pass(), { clock: ctx.clock, intervalMs: options.intervalMs ?? 60_000, onError: this.#onError });
  }

  start(): void {
    this.#ticker.start();
  }

  async stop(): Promise<void> {
    await this.#ticker.stop();
  }

  /** One pass: due certificates, expiry warnings, ARI windows; passes never overlap. */
  tick(): Promise<TickReport> {
    return this.#ticker.tick();
  }

  async #pass(): Promise<TickReport> {
    // One attempt per CA and account per pass, not per batch (account-failures.ts).
    const failures = new AccountFailures();
    const repaired = await this.#repairStuck(failures);
    const ordersOpened = await this.#openDueOrders(failures);
    const warnings = await this.#raiseExpiryWarnings();
    const ariChecked = await this.#checkRenewalWindows();
    return { ordersOpened, repaired, warnings, ariChecked };
  }

  /**
   * A certificate left issuing without an order gets the order it was created
   * for (its settings are all stored; the client's retry would only be told it
   * exists), with the goal a new certificate gets: issued, or placed for a
   * client that answers its challenges itself.
   */
  async #repairStuck(failures: AccountFailures): Promise<number> {
    const ctx = this.#ctx;
    const now = ctx.clock.now();
    const before = now - this.#stuckAfterMs;
    let repaired = 0;
    for (const { id } of await stuckCertificates(ctx.store.db, now, before, this.#batch)) {
      const claim = await whileClaimedStuck(ctx, id, before, () => this.#openOrder(id, failures, {}));
      if (claim?.result) repaired++;
    }
    return repaired;
  }

  async #openDueOrders(failures: AccountFailures): Promise<number> {
    const ctx = this.#ctx;
    let opened = 0;
    for (;;) {
      const due = await dueCertificates(ctx.store.db, ctx.clock.now(), this.#batch);
      let claimed = 0;
      await Promise.all(
        due.map(async ({ id }) => {
          const claim = await whileClaimedDue(ctx, id, () => this.#openOrder(id, failures, { goal: 'valid' }));
          if (!claim) return;
          claimed++;
          if (claim.result) opened++;
        }),
      );
      // Another instance took the rest, or there is no more: either way, done for this tick.
      if (due.length < this.#batch || claimed === 0) return opened;
    }
  }

  /** Opens the certificate's order (renewal.goal: none, the goal a new certificate gets); a failure is the certificate's, with its backoff. */
  async #openOrder(id: string, failures: AccountFailures, renewal: { goal?: 'valid' }): Promise<boolean> {
    const ctx = this.#ctx;
    const certificate = await getCertificate(ctx.store.db, id);
    if (!certificate) return false;
    const issuer = currentIssuer(certificate);
    const known = failures.known(certificate.subscription_id, issuer);
    if (known) {
      await recordPlanningFailure(ctx, id, known);
      return false;
    }
    try {
      await startRenewal(ctx, certificate.subscription_id, certificate.name, renewal);
      return true;
    } catch (error) {
      failures.remember(certificate.subscription_id, issuer, error);
      await recordPlanningFailure(ctx, id, error);
      this.#onError(error);
      return false;
    }
  }

  async #raiseExpiryWarnings(): Promise<number> {
    const ctx = this.#ctx;
    const now = ctx.clock.now();
    const rows = await nearingExpiry(ctx.store.db, now, this.#batch);
    let raised = 0;
    for (const row of rows) {
      const days = expiryWarning(row.not_after, now, row.warned_days, onTrack(row.next_renewal_at, row.failure_count, now));
      if (days === undefined) continue;
      await ctx.store.db.transaction().execute(async (trx) => {
        await updateCertificate(trx, row.id, { warned_days: days });
        await appendEvent(
          trx,
          {
            subscriptionId: row.subscription_id,
            certificateId: row.id,
            type: days === 0 ? 'certificate.expired' : 'certificate.expiring',
            payload: {
              name: row.name,
              daysLeft: days,
              notAfter: new Date(row.not_after).toISOString(),
              severity: days === 0 ? 'critical' : severity(row.not_after - now),
            },
          },
          now,
        );
      });
      raised++;
    }
    return raised;
  }

  /** RFC 9773: fetch each window when due, and move the renewal time into it when it changed. */
  async #checkRenewalWindows(): Promise<number> {
    const ctx = this.#ctx;
    const rows = await ariChecksDue(ctx.store.db, ctx.clock.now(), this.#batch);
    await Promise.all(
      rows.map(async (row) => {
        const now = ctx.clock.now();
        try {
          const issuer = findIssuerAt(row, row.ca_url);
          if (!issuer || !row.ari_cert_id) return updateCertificate(ctx.store.db, row.id, { ari_check_at: null });
          const account = await ensureAccount(ctx, row.subscription_id, issuer);
          const info = await account.client.renewalInfo(row.ari_cert_id);
          if (!info) return updateCertificate(ctx.store.db, row.id, { ari_check_at: null });
          const window = { start: info.suggestedWindow.start.getTime(), end: info.suggestedWindow.end.getTime() };
          const changed = window.start !== row.ari_window_start || window.end !== row.ari_window_end;
          // A certificate that does not renew by itself keeps no renewal time, window or not.
          const replan = changed && autoRenews(row);
          // One transaction: a window stored without its renewal time would look unchanged at the next check.
          await ctx.store.db.transaction().execute(async (trx) => {
            if (changed) await updateVersion(trx, row.version_id, { ari_window_start: window.start, ari_window_end: window.end });
            await updateCertificate(trx, row.id, {
              ari_check_at: nextAriCheck(now, info.retryAfter?.getTime()),
              ...(replan ? { next_renewal_at: plannedRenewal(row.not_before, row.not_after, row.renewal_policy, window) } : {}),
            });
          });
        } catch (error) {
          this.#onError(error);
          await updateCertificate(ctx.store.db, row.id, { ari_check_at: nextAriCheck(now, now + 3_600_000) });
        }
      }),
    );
    return rows.length;
  }
}

/**
 * The order could not even be opened (the CA unreachable for its directory or
 * account): counted as a failure of the certificate, with the planner's backoff.
 */
async function recordPlanningFailure(ctx: EngineContext, id: string, error: unknown): Promise<void> {
  const certificate = await getCertificate(ctx.store.db, id);
  if (!certificate) return;
  const now = ctx.clock.now();
  const failures = certificate.failure_count + 1;
  const version = certificate.current_version_id ? await getVersionDates(ctx.store.db, certificate.current_version_id) : undefined;
  const notAfter = version?.not_after ?? null;
  const message = error instanceof Error ? error.message : String(error);
  const rateLimited = error instanceof AcmeRateLimitError ? error.retryAfter.getTime() : undefined;
  await ctx.store.db.transaction().execute(async (trx) => {
    await updateCertificate(trx, id, {
      failure_count: failures,
      last_error: message,
      retry_at: autoRenews(certificate) ? retryTime(now, failures, notAfter, rateLimited) : null,
      updated_at: now,
    });
    // The first failure, and each time the next CA is due to be tried: not one event per retry.
    if (certificate.failure_count !== 0 && failures % FAILURES_PER_ISSUER !== 0) return;
    await appendEvent(
      trx,
      {
        subscriptionId: certificate.subscription_id,
        certificateId: id,
        type: certificate.current_version_id ? 'renewal.failed' : 'issuance.failed',
        payload: { name: certificate.name, error: message, failures, severity: severity(notAfter === null ? null : notAfter - now) },
      },
      now,
    );
  });
}
