// The per-certificate gauges, written straight into the text exposition format
// from the rows of one store read: a prom-client Gauge would hold a labelled
// child per certificate and per condition (400,000 objects at 100,000
// certificates) and hash their labels on every scrape. The text is written a
// page of rows at a time, so that the API is not held up for a whole scrape.
// Names and labels as cert-manager's (pkg/metrics/certificates.go), with its
// namespace as certkeep's subscription.

/** One live certificate as the gauges need it. */
export interface CertificateGaugeRow {
  subscription: string;
  name: string;
  /** The stored state: issuing, valid, failed, revoked. */
  state: string;
  /** Milliseconds; null before the first version. */
  notAfter: number | null;
  /** When the scheduler renews it (milliseconds); null when it does not renew automatically. */
  renewalAt: number | null;
}

/** The states a certificate can be counted in; each is written, at 0 when none is in it, so that alerts see the series. */
export const COUNTED_STATES = ['issuing', 'valid', 'failed', 'revoked', 'expired'] as const;

const EXPIRATION = 'certkeep_certificate_expiration_timestamp_seconds';
const RENEWAL = 'certkeep_certificate_renewal_timestamp_seconds';
const READY = 'certkeep_certificate_ready_status';
const COUNT = 'certkeep_certificates';

/**
 * The four families, written a page of rows at a time (add), so that a scrape
 * can let other work run between pages; text() puts each family's lines
 * together, as the format requires, and ends with a newline.
 */
export class CertificateGauges {
  readonly #now: number;
  readonly #expiration: string[] = [];
  readonly #renewal: string[] = [];
  readonly #ready: string[] = [];
  readonly #counts = new Map<string, number>(COUNTED_STATES.map((state) => [state, 0]));

  /** `now` in milliseconds: what is expired, and so not ready. */
  constructor(now: number) {
    this.#now = now;
  }

  add(rows: Iterable<CertificateGaugeRow>): void {
    const expiration: string[] = [];
    const renewal: string[] = [];
    const ready: string[] = [];
    for (const row of rows) {
      const labels = `subscription="${escapeLabel(row.subscription)}",name="${escapeLabel(row.name)}"`;
      expiration.push(`${EXPIRATION}{${labels}} ${seconds(row.notAfter)}`);
      renewal.push(`${RENEWAL}{${labels}} ${seconds(row.renewalAt)}`);
      const condition = readyCondition(row, this.#now);
      ready.push(
        `${READY}{${labels},condition="True"} ${condition === 'True' ? 1 : 0}`,
        `${READY}{${labels},condition="False"} ${condition === 'False' ? 1 : 0}`,
        `${READY}{${labels},condition="Unknown"} ${condition === 'Unknown' ? 1 : 0}`,
      );
      const counted = countedState(row, this.#now);
      this.#counts.set(counted, (this.#counts.get(counted) ?? 0) + 1);
    }
    if (expiration.length === 0) return;
    this.#expiration.push(expiration.join('\n'));
    this.#renewal.push(renewal.join('\n'));
    this.#ready.push(ready.join('\n'));
  }

  text(): string {
    const byState = [...this.#counts].map(
      ([state, count]) => `${COUNT}{state="${escapeLabel(state)}"} ${count}`,
    );
    return `${[
      gaugeHeader(
        EXPIRATION,
        'The date after which the certificate expires. Expressed as a Unix Epoch Time (0: not issued yet).',
      ),
      ...this.#expiration,
      gaugeHeader(
        RENEWAL,
        'The date after which the certificate is renewed. Expressed as a Unix Epoch Time (0: no automatic renewal).',
      ),
      ...this.#renewal,
      gaugeHeader(
        READY,
        'The ready status of the certificate: 1 for its condition (True: a valid, unexpired version; False: failed, revoked or expired; Unknown: issuing), 0 for the others.',
      ),
      ...this.#ready,
      gaugeHeader(COUNT, 'Certificates by state (expired: valid, but its current version has expired).'),
      ...byState,
    ].join('\n')}\n`;
  }
}

/** cert-manager's Ready condition: True while a version is valid and unexpired. */
function readyCondition(row: CertificateGaugeRow, now: number): 'True' | 'False' | 'Unknown' {
  if (row.state === 'issuing') return 'Unknown';
  if (row.state === 'valid' && row.notAfter !== null && row.notAfter > now) return 'True';
  return 'False';
}

function countedState(row: CertificateGaugeRow, now: number): string {
  if (row.state === 'valid' && row.notAfter !== null && row.notAfter <= now) return 'expired';
  return row.state;
}

function gaugeHeader(name: string, help: string): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} gauge`;
}

function seconds(ms: number | null): number {
  return ms === null ? 0 : Math.floor(ms / 1000);
}

/** The exposition format's label escapes: backslash, double quote, newline. */
function escapeLabel(value: string): string {
  return /[\\"\n]/.test(value)
    ? value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
    : value;
}
