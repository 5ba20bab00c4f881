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

/** Every certificate not deleted, with its current version's expiry (null before the first). */
export function certificateDates(db: Db): Promise<CertificateDatesRow[]> {
  return db
    .selectFrom('certificates as c')
    .leftJoin('certificate_versions as v', 'v.id', 'c.current_version_id')
    .where('c.state', '!=', 'deleted')
    .select(['c.subscription_id', 'c.name', 'c.state', 'c.next_renewal_at', 'v.not_after'])
    .execute();
}
