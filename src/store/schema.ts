// The database schema as Kysely sees it. One schema for SQLite and PostgreSQL:
// timestamps are epoch milliseconds (bigint on PostgreSQL, read back as number),
// JSON is stored as text, ids are text (random, see newId in ids.ts).
// Columns ending in `_enc` hold AES-256-GCM ciphertext produced by SecretBox.
import type { Generated } from 'kysely';

export interface SubscriptionsTable {
  id: string;
  name: string;
  created_at: number;
  /** JSON string[]: where notifications are mailed. */
  notify_emails: Generated<string>;
}

export interface ApiKeysTable {
  id: string;
  subscription_id: string;
  prefix: string;
  secret_hash: string; // hex sha-256 of the whole key
  scopes: string; // JSON string[]
  created_at: number;
  revoked_at: number | null;
  /** What the key is for, as its creator put it; '' when not given. */
  label: Generated<string>;
}

export interface AcmeAccountsTable {
  id: string;
  subscription_id: string;
  ca_url: string; // directory URL
  contact: string; // '' when none
  key_enc: string;
  account_url: string | null; // null until the CA has answered newAccount
  created_at: number;
}

export interface DnsZonesTable {
  id: string;
  subscription_id: string;
  zone: string; // lower case, no trailing dot
  provider: string;
  config_enc: string; // provider credentials/config, JSON, encrypted
  nameservers: string; // JSON string[] of host:port, [] for public DNS
  created_at: number;
}

export interface CertificatesTable {
  id: string;
  subscription_id: string;
  name: string;
  identifiers: string; // JSON [{type:'dns'|'ip', value}]
  challenge_type: string; // http-01 | dns-01 | tls-alpn-01
  challenge_config: string; // JSON: { httpPort?, webroot?, ... }
  key_type: string;
  issuers: string; // JSON [{ caUrl, email?, eab? }] in order of preference
  profile: string | null;
  renewal_policy: string; // JSON { renewBefore?: string, autoRenew: boolean }
  pfx_password_enc: string | null;
  csr_info: string; // JSON { organization?, country?, ... }
  state: string; // pending | issuing | valid | failed | revoked | deleted
  current_version_id: string | null;
  next_renewal_at: number | null;
  retry_at: number | null;
  failure_count: number;
  last_error: string | null;
  lease_owner: string | null;
  lease_token: number; // fencing token, bumped on every claim
  lease_until: number | null;
  created_at: number;
  updated_at: number;
  /** Days before expiry of the loudest certificate.expiring event raised for the current version (0: expired). */
  warned_days: number | null;
  /** When to ask the CA's renewalInfo (ARI) again. */
  ari_check_at: number | null;
  /** Of the CA's alternate chains, the one whose top certificate this issuer CN signed; null: the CA's default. */
  preferred_chain: Generated<string | null>;
  /** The current version's not_after, set with current_version_id: the expiry-warning index reads it here. */
  current_not_after: number | null;
}

export interface CertificateVersionsTable {
  id: string;
  certificate_id: string;
  order_id: string | null;
  serial: string; // lower-case hex
  not_before: number;
  not_after: number;
  chain_pem: string; // leaf first, then intermediates
  key_enc: string;
  ca_url: string;
  ari_cert_id: string | null;
  ari_window_start: number | null;
  ari_window_end: number | null;
  created_at: number;
  /** When it stopped being the current version or the one before it: retention removes it once old enough. */
  retired_at: Generated<number | null>;
}

export interface OrdersTable {
  id: string;
  certificate_id: string;
  account_id: string;
  ca_url: string;
  // new | placed | provisioned | responded | ready | finalized | valid | deployed | invalid | failed
  step: string;
  order_url: string | null;
  finalize_url: string | null;
  certificate_url: string | null;
  authorizations: string; // JSON AuthorizationRecord[] (see engine)
  key_enc: string; // the certificate key for this order, saved before the CSR is sent
  replaces: string | null; // ARI cert id of the version being renewed
  error: string | null; // JSON problem document or message
  attempt: number;
  retry_at: number | null;
  created_at: number;
  updated_at: number;
  /** The step workers drive the order to: 'valid', or 'placed' while the client answers the challenges. */
  goal: Generated<string>;
  /** The client's CSR (PEM) when the client holds the key; key_enc is '' then. */
  csr: string | null;
  lease_owner: string | null;
  lease_token: Generated<number>;
  lease_until: number | null;
  /** When it was finished, no longer its certificate's newest, and made no version that stays: retention removes it once old enough. */
  retired_at: Generated<number | null>;
}

/** HTTP-01 answers for open orders, so that any instance can serve them. */
export interface ChallengeTokensTable {
  token: string;
  order_id: string;
  key_authorization: string;
  created_at: number;
}

/** TLS-ALPN-01 answers for open orders by identifier, so that any instance's listener can serve them. */
export interface TlsAlpnAnswersTable {
  token: string;
  /** What the CA names in the SNI: a lower-case DNS name or a canonical IP. */
  identifier: string;
  order_id: string;
  key_authorization: string;
  created_at: number;
}

/** Delegated zones' DNS-01 values, by the name under the delegation zone that the CA asks for. */
export interface DelegatedChallengeValuesTable {
  owner: string;
  value: string;
  /** Whose zone wrote it: deleting the subscription removes its values. */
  subscription_id: string;
  created_at: number;
}

export interface WebhooksTable {
  id: string;
  subscription_id: string;
  url: string;
  secret_enc: string;
  event_types: string; // JSON string[]; [] means every type
  created_at: number;
}

export interface WebhookDeliveriesTable {
  id: Generated<number>;
  webhook_id: string;
  event_id: number;
  status: string; // pending | delivered | failed
  attempts: number;
  next_attempt_at: number | null;
  last_status_code: number | null;
  last_error: string | null;
  lease_until: number | null;
  created_at: number;
  delivered_at: number | null;
}

export interface EventsTable {
  id: Generated<number>;
  subscription_id: string;
  certificate_id: string | null;
  type: string;
  payload: string; // JSON
  created_at: number;
  acked_at: number | null;
  /** Mail queue (notify/email.ts): null never looked at, negative held until |value| (claimed or waiting to retry), positive done. */
  emailed_at: number | null;
}

export interface AuditLogTable {
  id: Generated<number>;
  subscription_id: string | null;
  actor: string;
  action: string;
  target: string | null;
  created_at: number;
}

/** People who sign in to the portal; each belongs to one subscription. */
export interface UsersTable {
  id: string;
  subscription_id: string;
  email: string; // lower case, unique in the installation
  role: string; // viewer | operator | admin
  password_hash: string; // scrypt$N$r$p$salt$hash
  must_change_password: number; // 1: a one-time password, to be changed at the next sign-in
  failed_sign_ins: number; // wrong passwords since the last success
  locked_until: number | null;
  last_sign_in_at: number | null;
  created_at: number;
  updated_at: number;
}

/** Portal sessions: the cookie holds a random token, the store its SHA-256. */
export interface SessionsTable {
  id: string; // hex SHA-256 of the token
  user_id: string;
  created_at: number;
  expires_at: number;
}

/** The compatibility APIs' integer id of a subscription (migration 0007). */
export interface SubscriptionNumbersTable {
  number: Generated<number>;
  subscription_id: string;
}

/** The compatibility APIs' integer id of a certificate (migration 0007). */
export interface CertificateNumbersTable {
  number: Generated<number>;
  certificate_id: string;
}

/** Where a certificate is deployed (migration 0008): by this machine's certkeep (agent_id null, on `host`) or by an agent. */
export interface DeployTargetsTable {
  id: string;
  certificate_id: string;
  /** null: certkeep deploys it itself; otherwise the agent that does (issue 13). */
  agent_id: string | null;
  /** Local targets: the machine (hostname) whose certkeep runs them. */
  host: string | null;
  directory: string;
  format: string; // pem | combined | pfx
  owner: string | null; // USER[:GROUP]
  /** Local targets: a command for /bin/sh -c, given on this machine's command line; an agent's: a name it resolves. */
  deploy_hook: string | null;
  reload: string | null;
  verify: string; // JSON string[] of HOST:PORT
  verify_timeout_ms: number;
  created_at: number;
  updated_at: number;
  lease_owner: string | null;
  lease_token: Generated<number>;
  lease_until: number | null;
  /** The version for which deployment.overdue was raised here (migration 0010). */
  overdue_version_id: Generated<string | null>;
}

/** A host agent (migration 0010): a credential that reads only the certificates assigned to it. */
export interface AgentsTable {
  id: string;
  subscription_id: string;
  host: string;
  token_prefix: string;
  token_hash: string; // hex sha-256 of the whole token
  created_at: number;
  rotated_at: number | null;
  last_seen_at: number | null;
  /** Moves when the agent's targets or token change: what its stream is told of. */
  changed_at: number;
  /** When it was removed: its token is gone (the row stays so that its streams learn of it). */
  removed_at: number | null;
}

/** One version at one target: recorded pending before the files are touched, then its outcome. */
export interface DeploymentsTable {
  id: string;
  target_id: string;
  version_id: string;
  status: string; // pending | deployed | failed
  attempts: number;
  stage: string | null; // where it failed: prepare | files | hook | reload | verify
  error: string | null;
  rollback_error: string | null;
  verified_at: number | null;
  started_at: number;
  finished_at: number | null;
  created_at: number;
}

export interface Database {
  subscriptions: SubscriptionsTable;
  api_keys: ApiKeysTable;
  acme_accounts: AcmeAccountsTable;
  dns_zones: DnsZonesTable;
  certificates: CertificatesTable;
  certificate_versions: CertificateVersionsTable;
  orders: OrdersTable;
  events: EventsTable;
  audit_log: AuditLogTable;
  challenge_tokens: ChallengeTokensTable;
  tls_alpn_answers: TlsAlpnAnswersTable;
  delegated_challenge_values: DelegatedChallengeValuesTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  users: UsersTable;
  sessions: SessionsTable;
  subscription_numbers: SubscriptionNumbersTable;
  certificate_numbers: CertificateNumbersTable;
  deploy_targets: DeployTargetsTable;
  agents: AgentsTable;
  deployments: DeploymentsTable;
}
