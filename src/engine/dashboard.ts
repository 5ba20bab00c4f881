// What the portal shows at a glance: the dashboard, the searchable list of
// certificates, and everything on one certificate's page. All of it is
// computed by the database, so it stays quick with tens of thousands of
// certificates.
import { NotFoundError, UsageError } from '../errors.ts';
import { type EventView, eventView } from '../notify/events.ts';
import { findCertificate } from '../store/repositories/certificates.ts';
import {
  countByState,
  countExpiring,
  countFailing,
  expiryHistogram,
  type ListQuery,
  listFailing,
  recentEvents,
  recentOrders,
  searchCertificates,
  soonestExpiring,
  versionList,
} from '../store/repositories/dashboard.ts';
import { findCertificateWithDates } from '../store/repositories/certificates.ts';
import type { EngineContext } from './context.ts';
import { isoTime } from '../time/iso.ts';
import { type CertificateSummary, type OrderView, orderView, summarize } from './views.ts';

const DAY_MS = 86_400_000;
export const HISTOGRAM_DAYS = 90;
export const EXPIRING_DAYS = 30;

export interface Dashboard {
  /** Certificates by state (issuing, valid, failed, revoked), and in all. */
  counts: { total: number; byState: Record<string, number> };
  expiring: { withinDays: number; count: number; expired: number; soonest: CertificateSummary[] };
  failing: {
    count: number;
    certificates: {
      name: string;
      state: string;
      failures: number;
      lastError: string | null;
      retryAt: string | null;
      notAfter: string | null;
    }[];
  };
  /** Issued certificates expiring on each day from today (index 0: the next 24 hours). */
  expiryHistogram: number[];
  recentEvents: EventView[];
}

export async function dashboard(ctx: EngineContext, subscriptionId: string): Promise<Dashboard> {
  const { db } = ctx.store;
  const now = ctx.clock.now();
  const soon = now + EXPIRING_DAYS * DAY_MS;
  const [byState, expiringCount, expired, soonest, failingCount, failing, histogram, events] =
    await Promise.all([
      countByState(db, subscriptionId),
      countExpiring(db, subscriptionId, now, soon),
      countExpiring(db, subscriptionId, 0, now),
      soonestExpiring(db, subscriptionId, now, soon, 8),
      countFailing(db, subscriptionId),
      listFailing(db, subscriptionId, 8),
      expiryHistogram(db, subscriptionId, now, HISTOGRAM_DAYS),
      recentEvents(db, subscriptionId, 12),
    ]);
  return {
    counts: { total: Object.values(byState).reduce((a, b) => a + b, 0), byState },
    expiring: { withinDays: EXPIRING_DAYS, count: expiringCount, expired, soonest: soonest.map(summarize) },
    failing: {
      count: failingCount,
      certificates: failing.map((row) => ({
        name: row.name,
        state: row.state,
        failures: row.failure_count,
        lastError: row.last_error,
        retryAt: row.retry_at === null ? null : isoTime(row.retry_at),
        notAfter: row.not_after === null ? null : isoTime(row.not_after),
      })),
    },
    expiryHistogram: histogram,
    recentEvents: events.map(eventView),
  };
}

export interface CertificateSearch {
  search?: string;
  state?: string;
  expiresBefore?: string;
  sort?: ListQuery['sort'];
  offset?: number;
  limit: number;
}

/** A page of a subscription's certificates matching a search, with how many match in all. */
export async function searchCertificateSummaries(
  ctx: EngineContext,
  subscriptionId: string,
  search: CertificateSearch,
): Promise<{ certificates: CertificateSummary[]; total: number }> {
  const before = search.expiresBefore === undefined ? undefined : Date.parse(search.expiresBefore);
  if (before !== undefined && Number.isNaN(before)) {
    throw new UsageError(
      `expiresBefore: "${search.expiresBefore}" is not a time like 2026-12-31T00:00:00Z`,
      'expiresBefore',
    );
  }
  const { rows, total } = await searchCertificates(ctx.store.db, subscriptionId, {
    ...search,
    expiresBefore: before,
  });
  return { certificates: rows.map(summarize), total };
}

export interface VersionView {
  id: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  ca: string;
  /** The CA's suggested renewal window (ARI, RFC 9773), when it gave one. */
  renewalWindow: { start: string; end: string } | null;
  createdAt: string;
  current: boolean;
}

export interface CertificateDetails extends CertificateSummary {
  keyType: string;
  profile: string | null;
  challengeType: string;
  answeredBy: 'certkeep' | 'client';
  autoRenew: boolean;
  renewBefore: string | null;
  /** The CAs in order of preference. */
  cas: string[];
  hasPfxPassword: boolean;
  failures: number;
  lastError: string | null;
  retryAt: string | null;
  createdAt: string;
  versions: VersionView[];
  /** Newest first, each with its steps and (for a client that answers itself) its tokens. */
  orders: (OrderView & { createdAt: string; updatedAt: string })[];
  events: EventView[];
}

/** Everything a certificate's page shows, in a handful of queries. */
export async function certificateDetails(
  ctx: EngineContext,
  subscriptionId: string,
  name: string,
): Promise<CertificateDetails> {
  const { db } = ctx.store;
  const certificate = await findCertificate(db, subscriptionId, name);
  if (!certificate) throw new NotFoundError(`no certificate named "${name}" in this subscription`);
  const [summary, versions, orders, events] = await Promise.all([
    findCertificateWithDates(db, subscriptionId, name),
    versionList(db, certificate.id, 20),
    recentOrders(db, certificate.id, 10),
    recentEvents(db, subscriptionId, 30, certificate.id),
  ]);
  const policy = certificate.renewal_policy;
  return {
    ...summarize(summary!),
    keyType: certificate.key_type,
    profile: certificate.profile,
    challengeType: certificate.challenge_type,
    answeredBy: certificate.challenge_config.manual ? 'client' : 'certkeep',
    autoRenew: policy.autoRenew !== false,
    renewBefore: policy.renewBefore ?? null,
    cas: certificate.issuers.map((issuer) => issuer.caUrl),
    hasPfxPassword: certificate.pfx_password_enc !== null,
    failures: certificate.failure_count,
    lastError: certificate.last_error,
    retryAt: certificate.retry_at === null ? null : isoTime(certificate.retry_at),
    createdAt: isoTime(certificate.created_at),
    versions: versions.map((v) => ({
      id: v.id,
      serial: v.serial,
      notBefore: isoTime(v.not_before),
      notAfter: isoTime(v.not_after),
      ca: v.ca_url,
      renewalWindow:
        v.ari_window_start !== null && v.ari_window_end !== null
          ? { start: isoTime(v.ari_window_start), end: isoTime(v.ari_window_end) }
          : null,
      createdAt: isoTime(v.created_at),
      current: v.id === certificate.current_version_id,
    })),
    orders: orders.map((order) => ({
      ...orderView(order, certificate),
      createdAt: isoTime(order.created_at),
      updatedAt: isoTime(order.updated_at),
    })),
    events: events.map(eventView),
  };
}
