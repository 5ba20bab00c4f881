// How certificates and orders are shown to people and programs: the CLI's
// `list`/`show` and the APIs' responses use these same shapes.
import type { OrderStep } from '../store/records.ts';
import type { Db } from '../store/repositories/db.ts';
import type { OrderRow } from '../store/repositories/orders.ts';
import {
  type CertificateFilter,
  type CertificateRow,
  type CertificateWithDates,
  findCertificateWithDates,
  getVersionDates,
  listCertificatesWithDates,
} from '../store/repositories/certificates.ts';

export interface CertificateSummary {
  name: string;
  state: string;
  names: string[];
  serial: string | null;
  notBefore: string | null;
  notAfter: string | null;
  nextRenewalAt: string | null;
}

export async function certificateSummary(db: Db, certificate: CertificateRow): Promise<CertificateSummary> {
  const current = certificate.current_version_id ? await getVersionDates(db, certificate.current_version_id) : undefined;
  return summarize({ ...certificate, serial: current?.serial ?? null, not_before: current?.not_before ?? null, not_after: current?.not_after ?? null });
}

/** The summary of a subscription's certificate by name, in one query; undefined when there is none. */
export async function findCertificateSummary(db: Db, subscriptionId: string, name: string): Promise<CertificateSummary | undefined> {
  const row = await findCertificateWithDates(db, subscriptionId, name);
  return row && summarize(row);
}

/** A subscription's certificates by name, in one query; `filter` narrows and pages them. */
export async function listCertificateSummaries(db: Db, subscriptionId: string, filter: CertificateFilter = {}): Promise<CertificateSummary[]> {
  return (await listCertificatesWithDates(db, subscriptionId, filter)).map(summarize);
}

function summarize(row: CertificateWithDates): CertificateSummary {
  return {
    name: row.name,
    state: row.state,
    names: row.identifiers.map((i) => i.value),
    serial: row.serial,
    notBefore: row.not_before === null ? null : isoTime(row.not_before),
    notAfter: row.not_after === null ? null : isoTime(row.not_after),
    nextRenewalAt: row.next_renewal_at ? isoTime(row.next_renewal_at) : null,
  };
}

export type OrderStatus = 'pending' | 'ready' | 'processing' | 'valid' | 'invalid';

export interface ValidationToken {
  identifier: string;
  wildcard: boolean;
  challengeType: string;
  token: string;
  /** HTTP-01: the file's content at /.well-known/acme-challenge/<token>. */
  keyAuthorization: string;
  /** DNS-01: the TXT value at recordName. */
  dnsValue: string;
  recordName: string;
  status: string;
}

export interface OrderView {
  id: string;
  certificate: string;
  status: OrderStatus;
  step: string;
  goal: string;
  challengeType: string;
  answeredBy: 'certkeep' | 'client';
  orderUrl: string | null;
  certificateUrl: string | null;
  error: string | null;
  tokens: ValidationToken[];
}

/** The ACME status (RFC 8555 §7.1.6) the order's stored step stands for. */
export function orderStatus(step: OrderStep): OrderStatus {
  if (step === 'ready') return 'ready';
  if (step === 'finalized') return 'processing';
  if (step === 'valid' || step === 'deployed') return 'valid';
  if (step === 'invalid' || step === 'failed') return 'invalid';
  return 'pending';
}

/** An order with its validation tokens, for a client that places the answers itself. */
export function orderView(order: OrderRow, certificate: CertificateRow): OrderView {
  return {
    id: order.id,
    certificate: certificate.name,
    status: orderStatus(order.step),
    step: order.step,
    goal: order.goal,
    challengeType: certificate.challenge_type,
    answeredBy: certificate.challenge_config.manual ? 'client' : 'certkeep',
    orderUrl: order.order_url,
    certificateUrl: order.certificate_url,
    error: order.error,
    tokens: order.authorizations
      .filter((record) => record.token)
      .map((record) => ({
        identifier: record.wildcard ? `*.${record.identifier.value}` : record.identifier.value,
        wildcard: record.wildcard,
        challengeType: certificate.challenge_type,
        token: record.token!,
        keyAuthorization: record.keyAuthorization ?? '',
        dnsValue: record.dnsValue ?? '',
        recordName: `_acme-challenge.${record.identifier.value}`,
        status: record.status,
      })),
  };
}

/** ISO 8601 in UTC without milliseconds, e.g. 2026-11-22T21:48:39Z. */
export function isoTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  // Years 0000-9999 end in ".sssZ"; others (±YYYYYY) keep the general form.
  return iso.length === 24 ? `${iso.slice(0, 19)}Z` : iso.replace(/\.\d{3}Z$/, 'Z');
}
