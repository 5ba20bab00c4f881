// Certificates that are due for renewal, written straight into a store: the
// starting point of the renewal benchmark and the multi-instance tests. Each
// has a current version whose renewal time has passed; the chain is a
// placeholder, since renewing reads only the names, the policy and the dates.
import type { Store } from '../../src/store/database.ts';
import type { ChallengeConfig } from '../../src/store/records.ts';
import { newId } from '../../src/store/ids.ts';
import { insertCertificate, insertVersion, UNTOUCHED_RENEWAL_STATE } from '../../src/store/repositories/certificates.ts';

export interface DueCertificatesOptions {
  subscriptionId: string;
  count: number;
  /** The CA the renewals go to (Pebble's directory URL). */
  caUrl: string;
  caCertPem?: string;
  /** Names are `<prefix>-<i>.<zone>`. */
  prefix?: string;
  zone?: string;
  now?: number;
  /** The certificates' challenge settings (default: HTTP-01 answered by the server from the store). */
  challengeConfig?: ChallengeConfig;
}

const DAY = 86_400_000;
const PLACEHOLDER_CHAIN = '-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n';

/** Inserts the certificates in one transaction; returns their names. */
export async function seedDueCertificates(store: Store, options: DueCertificatesOptions): Promise<string[]> {
  const now = options.now ?? Date.now();
  const names: string[] = [];
  await store.db.transaction().execute(async (trx) => {
    for (let i = 0; i < options.count; i++) {
      const name = `${options.prefix ?? 'due'}-${i}.${options.zone ?? 'example.test'}`;
      const certificateId = newId('crt');
      const versionId = newId('ver');
      await insertCertificate(trx, {
        id: certificateId,
        subscription_id: options.subscriptionId,
        name,
        identifiers: [{ type: 'dns', value: name }],
        challenge_type: 'http-01',
        challenge_config: options.challengeConfig ?? {},
        key_type: 'ec-p256',
        issuers: [{ caUrl: options.caUrl, ...(options.caCertPem ? { caCertPem: options.caCertPem } : {}) }],
        profile: null,
        renewal_policy: { autoRenew: true },
        pfx_password_enc: null,
        csr_info: {},
        state: 'valid',
        current_version_id: versionId,
        current_not_after: now + 30 * DAY,
        next_renewal_at: now - 1000,
        ...UNTOUCHED_RENEWAL_STATE,
        created_at: now - 60 * DAY,
        updated_at: now - 60 * DAY,
      });
      await insertVersion(trx, {
        id: versionId,
        certificate_id: certificateId,
        order_id: null,
        serial: `0${i.toString(16)}`,
        not_before: now - 60 * DAY,
        not_after: now + 30 * DAY,
        chain_pem: PLACEHOLDER_CHAIN,
        key_enc: '',
        ca_url: options.caUrl,
        ari_cert_id: null,
        ari_window_start: null,
        ari_window_end: null,
        created_at: now - 60 * DAY,
      });
      names.push(name);
    }
  });
  return names;
}
