// One complete, related row for every table, with every column filled in:
// timestamps past 2^32 ms (they need 64 bits) and JSON text with non-ASCII.
import type { Insertable } from 'kysely';
import type { NewCertificate } from '../../src/store/repositories/certificates.ts';
import type { NewOrder } from '../../src/store/repositories/orders.ts';
import type { Database } from '../../src/store/schema.ts';
import { newId } from '../../src/store/ids.ts';

export const LATE = 4_102_444_800_000; // 2100-01-01, far beyond 2^32
const JSON_TEXT = JSON.stringify({ name: 'bücher.example', list: ['a', 'ü', '"quoted"'], n: 1.5 });

export type Rows = { [T in keyof Database]: Insertable<Database[T]> };

export function rowsFor(subscriptionId = newId('sub')): Rows {
  const certificateId = newId('crt');
  const accountId = newId('acc');
  const orderId = newId('ord');
  const webhookId = newId('whk');
  const userId = newId('usr');
  const versionId = newId('ver');
  const targetId = newId('dpt');
  return {
    subscriptions: { id: subscriptionId, name: 'Tenant ü', created_at: LATE, notify_emails: '["ops@bücher.example"]' },
    api_keys: {
      id: newId('key'),
      subscription_id: subscriptionId,
      prefix: `ck_${newId().slice(-8)}`,
      secret_hash: newId().repeat(2),
      scopes: '["certificates:read","certificates:write"]',
      created_at: LATE + 1,
      revoked_at: LATE + 2,
      label: 'deploy script ü',
    },
    acme_accounts: {
      id: accountId,
      subscription_id: subscriptionId,
      ca_url: 'https://127.0.0.1:14000/dir',
      contact: 'mailto:ops@example.test',
      key_enc: 'v1.aaa.bbb.ccc',
      account_url: 'https://127.0.0.1:14000/my-account/1',
      created_at: LATE + 3,
    },
    dns_zones: {
      id: newId('zone'),
      subscription_id: subscriptionId,
      zone: 'example.test',
      provider: 'rfc2136',
      config_enc: 'v1.ddd.eee.fff',
      nameservers: '["127.0.0.1:5353"]',
      created_at: LATE + 4,
    },
    certificates: {
      id: certificateId,
      subscription_id: subscriptionId,
      name: 'www',
      identifiers: '[{"type":"dns","value":"www.example.test"}]',
      challenge_type: 'http-01',
      challenge_config: JSON_TEXT,
      key_type: 'ec-p256',
      issuers: '[{"caUrl":"https://127.0.0.1:14000/dir"}]',
      profile: 'shortlived',
      renewal_policy: '{"autoRenew":true}',
      pfx_password_enc: 'v1.ggg.hhh.iii',
      csr_info: '{}',
      state: 'valid',
      current_version_id: null,
      next_renewal_at: LATE + 5,
      retry_at: LATE + 6,
      failure_count: 2,
      last_error: 'urn:ietf:params:acme:error:rateLimited',
      lease_owner: 'worker-1',
      lease_token: 7,
      lease_until: LATE + 7,
      created_at: LATE + 8,
      updated_at: LATE + 9,
      warned_days: 3,
      ari_check_at: LATE + 27,
      preferred_chain: 'Root CA ü',
      current_not_after: LATE + 29,
    },
    orders: {
      id: orderId,
      certificate_id: certificateId,
      account_id: accountId,
      ca_url: 'https://127.0.0.1:14000/dir',
      step: 'valid',
      order_url: 'https://127.0.0.1:14000/my-order/1',
      finalize_url: 'https://127.0.0.1:14000/finalize/1',
      certificate_url: 'https://127.0.0.1:14000/certZ/1',
      authorizations: JSON_TEXT,
      key_enc: 'v1.jjj.kkk.lll',
      replaces: 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE',
      error: null,
      attempt: 1,
      retry_at: LATE + 10,
      created_at: LATE + 11,
      updated_at: LATE + 12,
      goal: 'placed',
      csr: '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n',
      lease_owner: 'worker-ü',
      lease_token: 3,
      lease_until: LATE + 21,
      retired_at: LATE + 30,
    },
    certificate_versions: {
      id: versionId,
      certificate_id: certificateId,
      order_id: orderId,
      serial: '03a1b2c3d4',
      not_before: LATE + 13,
      not_after: LATE + 14,
      chain_pem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
      key_enc: 'v1.mmm.nnn.ooo',
      ca_url: 'https://127.0.0.1:14000/dir',
      ari_cert_id: 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE',
      ari_window_start: LATE + 15,
      ari_window_end: LATE + 16,
      created_at: LATE + 17,
      retired_at: LATE + 31,
    },
    events: {
      subscription_id: subscriptionId,
      certificate_id: certificateId,
      type: 'certificate.issued',
      payload: JSON_TEXT,
      created_at: LATE + 18,
      acked_at: LATE + 19,
      emailed_at: LATE + 28,
    },
    audit_log: {
      subscription_id: subscriptionId,
      actor: 'api-key:key_1',
      action: 'certificate.create',
      target: certificateId,
      created_at: LATE + 20,
    },
    challenge_tokens: {
      token: `tok-${orderId}`,
      order_id: orderId,
      key_authorization: `tok-${orderId}.thumbprint`,
      created_at: LATE + 22,
    },
    tls_alpn_answers: {
      token: `alpn-${orderId}`,
      identifier: 'www.example.test',
      order_id: orderId,
      key_authorization: `alpn-${orderId}.thumbprint`,
      created_at: LATE + 29,
    },
    delegated_challenge_values: {
      owner: `mfrggzdfmztwq2lk.acme-${orderId.toLowerCase()}.example.test`,
      value: 'LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0',
      subscription_id: subscriptionId,
      created_at: LATE + 33,
    },
    webhooks: {
      id: webhookId,
      subscription_id: subscriptionId,
      url: 'https://hooks.example.test/certkeep?ü=1',
      secret_enc: 'v1.ppp.qqq.rrr',
      event_types: '["certificate.issued"]',
      created_at: LATE + 23,
    },
    webhook_deliveries: {
      webhook_id: webhookId,
      event_id: 0, // set to the inserted event's id by the suite
      status: 'failed',
      attempts: 5,
      next_attempt_at: LATE + 24,
      last_status_code: 503,
      last_error: 'HTTP 503',
      lease_until: LATE + 25,
      created_at: LATE + 26,
      delivered_at: null,
    },
    users: {
      id: userId,
      subscription_id: subscriptionId,
      email: `ops-${userId}@bücher.example`,
      role: 'operator',
      password_hash: 'scrypt$32768$8$1$c2FsdA$aGFzaA',
      must_change_password: 1,
      failed_sign_ins: 2,
      locked_until: LATE + 27,
      last_sign_in_at: LATE + 28,
      created_at: LATE + 29,
      updated_at: LATE + 30,
    },
    sessions: {
      id: newId().repeat(2),
      user_id: userId,
      created_at: LATE + 31,
      expires_at: LATE + 32,
    },
    // The largest number a 32-bit int holds: the vendors' clients read these as int.
    subscription_numbers: { number: 2_147_483_646, subscription_id: subscriptionId },
    certificate_numbers: { number: 2_147_483_647, certificate_id: certificateId },
    deploy_targets: {
      id: targetId,
      certificate_id: certificateId,
      agent_id: null,
      host: 'web-ü.example.test',
      directory: '/etc/ssl/bücher',
      format: 'combined',
      owner: 'www-data:www-data',
      deploy_hook: "printf '%s' \"$RENEWED_LINEAGE\" > /tmp/ü",
      reload: 'nginx -t && nginx -s reload',
      verify: '["127.0.0.1:443","[::1]:8443"]',
      verify_timeout_ms: 30_000,
      created_at: LATE + 29,
      updated_at: LATE + 30,
      lease_owner: 'host:123:abc',
      lease_token: 4,
      lease_until: LATE + 31,
      overdue_version_id: versionId,
    },
    agents: {
      id: newId('agt'),
      subscription_id: subscriptionId,
      host: 'web-1.bücher.example',
      token_prefix: `cka_${newId().slice(-12)}`,
      token_hash: newId().repeat(2),
      created_at: LATE + 36,
      rotated_at: LATE + 37,
      last_seen_at: LATE + 38,
      changed_at: LATE + 39,
      removed_at: LATE + 40,
    },
    deployments: {
      id: newId('dpl'),
      target_id: targetId,
      version_id: versionId,
      status: 'failed',
      attempts: 2,
      stage: 'verify',
      error: '127.0.0.1:443 still serves serial 03a1 for bücher.example (checked for 30 s); rolled back to serial 02, but …',
      rollback_error: "the rollback's reload failed too",
      verified_at: LATE + 32,
      started_at: LATE + 33,
      finished_at: LATE + 34,
      created_at: LATE + 35,
    },
  };
}

/** Table names in an order that satisfies the foreign keys. */
export const INSERT_ORDER: (keyof Database)[] = [
  'subscriptions',
  'api_keys',
  'acme_accounts',
  'dns_zones',
  'certificates',
  'orders',
  'certificate_versions',
  'events',
  'audit_log',
  'challenge_tokens',
  'tls_alpn_answers',
  'delegated_challenge_values',
  'webhooks',
  'webhook_deliveries',
  'users',
  'sessions',
  'subscription_numbers',
  'certificate_numbers',
  'deploy_targets',
  'deployments',
  'agents',
];

/** A certificates row as the repositories take it: its JSON columns parsed (src/store/records.ts). */
export function certificateRecord(row: Rows['certificates']): NewCertificate {
  const parsed = Object.fromEntries(
    ['identifiers', 'challenge_config', 'issuers', 'renewal_policy', 'csr_info'].map((column) => [column, JSON.parse(row[column as keyof typeof row] as string)]),
  );
  return { current_version_id: null, current_not_after: null, ...row, ...parsed } as unknown as NewCertificate;
}

/** An orders row as the repositories take it: its authorizations parsed, its step narrowed (src/store/records.ts). */
export function orderRecord(row: Rows['orders']): NewOrder {
  return { ...row, authorizations: JSON.parse(row.authorizations as string) } as unknown as NewOrder;
}
