// How a certificate is shown to people and programs: the CLI's `list`/`show`
// and the API's responses use these same shapes.
import type { Db } from '../store/repositories/db.ts';
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

export function summarize(row: CertificateWithDates): CertificateSummary {
  return {
    name: row.name,
    state: row.state,
    names: (JSON.parse(row.identifiers) as { value: string }[]).map((i) => i.value),
    serial: row.serial,
    notBefore: row.not_before === null ? null : isoTime(row.not_before),
    notAfter: row.not_after === null ? null : isoTime(row.not_after),
    nextRenewalAt: row.next_renewal_at ? isoTime(row.next_renewal_at) : null,
  };
}

/** ISO 8601 in UTC without milliseconds, e.g. 2026-11-22T21:48:39Z. */
export function isoTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  // Years 0000-9999 end in ".sssZ"; others (±YYYYYY) keep the general form.
  return iso.length === 24 ? `${iso.slice(0, 19)}Z` : iso.replace(/\.\d{3}Z$/, 'Z');
}
