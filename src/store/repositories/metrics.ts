// What the Prometheus scrape reads: every live certificate's owner, name, state
// and dates, in one query (metrics/certificates.ts writes the gauges from it).
import type { Db } from './db.ts';

export interface CertificateDatesRow {
  subscription_id: string;
  name: string;
  state: string;
  next_renewal_at: number | null;
  not_after: number | null;
}

/** Every certificate not deleted, with its current version's expiry (null before the first; kept on the certificate since 0009). */
export function certificateDates(db: Db): Promise<CertificateDatesRow[]> {
  return db
    .selectFrom('certificates')
    .where('state', '!=', 'deleted')
    .select(['subscription_id', 'name', 'state', 'next_renewal_at', 'current_not_after as not_after'])
    .execute();
}
