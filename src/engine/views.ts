// How certificates and orders are shown to people and programs: the CLI's
// `list`/`show` and the APIs' responses use these same shapes.
import type { OrderStep } from '../store/records.ts';
import { isoTime } from '../time/iso.ts';
import type { OrderRow } from '../store/repositories/orders.ts';
import {
  type CertificateFilter,
  type CertificateRow,
  type CertificateWithDates,
  getVersionDates,
  type ListedCertificate,
  listCertificatesWithDates,
  listVersions,
  type VersionRow,
} from '../store/repositories/certificates.ts';
import { listOrders } from '../store/repositories/orders.ts';
import type { EngineContext } from './context.ts';

export interface CertificateSummary {
  name: string;
  state: string;
  names: string[];
  serial: string | null;
  notBefore: string | null;
  notAfter: string | null;
  nextRenewalAt: string | null;
}

export async function certificateSummary(ctx: EngineContext, certificate: CertificateRow): Promise<CertificateSummary> {
  const current = certificate.current_version_id ? await getVersionDates(ctx.store.db, certificate.current_version_id) : undefined;
  return summarize({ ...certificate, serial: current?.serial ?? null, not_before: current?.not_before ?? null, not_after: current?.not_after ?? null });
}

/** A subscription's certificates by name, in one query; `filter` narrows and pages them. */
export async function listCertificateSummaries(ctx: EngineContext, subscriptionId: string, filter: CertificateFilter = {}): Promise<CertificateSummary[]> {
  return (await listCertificatesWithDates(ctx.store.db, subscriptionId, filter)).map(summarize);
}

/** A subscription's certificates with their current versions' serials and dates, in one query, for views of their own. */
export function listCertificates(ctx: EngineContext, subscriptionId: string): Promise<ListedCertificate[]> {
  return listCertificatesWithDates(ctx.store.db, subscriptionId);
}

/** A certificate's versions (newest first) and orders (oldest first), for the views that show its history. */
export async function certificateHistory(ctx: EngineContext, certificate: CertificateRow): Promise<{ versions: VersionRow[]; orders: OrderRow[] }> {
  const [versions, orders] = await Promise.all([listVersions(ctx.store.db, certificate.id), listOrders(ctx.store.db, certificate.id)]);
  return { versions, orders };
}

/** The certificate's current version, from its history. */
export function currentVersionIn(certificate: CertificateRow, versions: VersionRow[]): VersionRow | undefined {
  return certificate.current_version_id ? versions.find((v) => v.id === certificate.current_version_id) : undefined;
}

export function summarize(row: CertificateWithDates): CertificateSummary {
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
