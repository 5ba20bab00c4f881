// How a certificate is shown to people and programs: the CLI's `list`/`show`
// and the API's responses use these same shapes.
import type { Db } from '../store/repositories/db.ts';
import { type CertificateRow, getVersionDates } from '../store/repositories/certificates.ts';

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
  return {
    name: certificate.name,
    state: certificate.state,
    names: (JSON.parse(certificate.identifiers) as { value: string }[]).map((i) => i.value),
    serial: current?.serial ?? null,
    notBefore: current ? isoTime(current.not_before) : null,
    notAfter: current ? isoTime(current.not_after) : null,
    nextRenewalAt: certificate.next_renewal_at ? isoTime(certificate.next_renewal_at) : null,
  };
}

/** ISO 8601 in UTC without milliseconds, e.g. 2026-11-22T21:48:39Z. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
