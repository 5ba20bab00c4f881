// A large, healthy fleet written straight into a store, in multi-row inserts:
// the starting point of bench:scale and of the query-plan tests. Half the
// certificates live 6 days, half 90, each issued at a random moment so that
// none is due yet, each with its current version and the one before it; the
// finished orders (every one younger than the retention age) are spread over
// the certificates, as a fleet renewing every few days leaves them, all but
// one per certificate retired; one acknowledged event per certificate. Chains,
// keys and answers are placeholders of their real sizes: nothing here is
// parsed or decrypted by what is measured.
import { randomBytes } from 'node:crypto';
import type { Store } from '../../src/store/database.ts';
import type { NewRow } from '../../src/store/repositories/db.ts';

export interface FleetOptions {
  subscriptionId: string;
  certificates: number;
  orders: number;
  /** The CA every certificate and order names (never contacted: nothing is due). */
  caUrl: string;
  now: number;
  /** Called after each chunk with the rows written so far. */
  progress?: (what: string, done: number) => void;
}

const DAY = 86_400_000;
const CHUNK = 400;
/** Orders are spread over this many days back from now: younger than the default retention of 90. */
const ORDER_AGE_DAYS = 80;

export function fleetName(i: number): string {
  return `scale-${String(i).padStart(7, '0')}.example.test`;
}

export function fleetCertificateId(i: number): string {
  return `crt_scale${String(i).padStart(7, '0')}`;
}

/** Seeds the fleet; returns the account id its orders name. */
export async function seedFleet(store: Store, options: FleetOptions): Promise<string> {
  const accountId = 'acct_scale';
  await store.db
    .insertInto('acme_accounts')
    .values({
      id: accountId,
      subscription_id: options.subscriptionId,
      ca_url: options.caUrl,
      contact: '',
      key_enc: placeholder(180),
      account_url: `${options.caUrl}/acct/1`,
      created_at: options.now - 365 * DAY,
    })
    .execute();
  const chain = pemPlaceholder(1_400);
  await inChunks(options.certificates, async (from, to) => {
    const certificates: NewRow<'certificates'>[] = [];
    const versions: NewRow<'certificate_versions'>[] = [];
    for (let i = from; i < to; i++) {
      const { certificate, current, previous } = certificateRows(i, options, chain);
      certificates.push(certificate);
      versions.push(previous, current);
    }
    await store.db.transaction().execute(async (trx) => {
      await trx.insertInto('certificates').values(certificates).execute();
      await trx.insertInto('certificate_versions').values(versions).execute();
      await trx
        .insertInto('events')
        .values(certificates.map((c) => renewedEvent(c, options)))
        .execute();
    });
    options.progress?.('certificates', to);
  });
  await inChunks(options.orders, async (from, to) => {
    const rows: NewRow<'orders'>[] = [];
    for (let i = from; i < to; i++) rows.push(orderRow(i, options, accountId));
    await store.db.insertInto('orders').values(rows).execute();
    options.progress?.('orders', to);
  });
  return accountId;
}

async function inChunks(count: number, write: (from: number, to: number) => Promise<void>): Promise<void> {
  for (let from = 0; from < count; from += CHUNK) await write(from, Math.min(count, from + CHUNK));
}

function certificateRows(i: number, options: FleetOptions, chain: string) {
  const name = fleetName(i);
  const id = fleetCertificateId(i);
  const short = i % 2 === 0;
  const lifetime = (short ? 6 : 90) * DAY;
  // Renewal comes at half (6 days) or two thirds (90 days) of the lifetime: issued less than that ago.
  const renewAfter = short ? lifetime / 2 : (lifetime * 2) / 3;
  const notBefore = Math.round(options.now - spread(i) * renewAfter * 0.95);
  const current = versionRow(`ver_scale${i}c`, id, notBefore, lifetime, options, chain);
  const previous = versionRow(`ver_scale${i}p`, id, notBefore - renewAfter, lifetime, options, chain);
  const certificate: NewRow<'certificates'> = {
    id,
    subscription_id: options.subscriptionId,
    name,
    identifiers: JSON.stringify([
      { type: 'dns', value: name },
      { type: 'dns', value: `www.${name}` },
    ]),
    challenge_type: 'http-01',
    challenge_config: '{}',
    key_type: 'ec-p256',
    issuers: JSON.stringify([{ caUrl: options.caUrl }]),
    profile: null,
    renewal_policy: JSON.stringify({ autoRenew: true }),
    pfx_password_enc: null,
    csr_info: '{}',
    state: 'valid',
    current_version_id: current.id,
    current_not_after: current.not_after,
    next_renewal_at: notBefore + renewAfter,
    retry_at: null,
    failure_count: 0,
    last_error: null,
    lease_owner: null,
    lease_token: 0,
    lease_until: null,
    warned_days: null,
    ari_check_at: null,
    created_at: notBefore - 30 * DAY,
    updated_at: notBefore,
  };
  return { certificate, current, previous };
}

function versionRow(
  id: string,
  certificateId: string,
  notBefore: number,
  lifetime: number,
  options: FleetOptions,
  chain: string,
): NewRow<'certificate_versions'> {
  return {
    id,
    certificate_id: certificateId,
    order_id: null,
    serial: randomBytes(18).toString('hex'),
    not_before: notBefore,
    not_after: notBefore + lifetime,
    chain_pem: chain,
    key_enc: placeholder(330),
    ca_url: options.caUrl,
    ari_cert_id: null,
    ari_window_start: null,
    ari_window_end: null,
    created_at: notBefore,
  };
}

function orderRow(i: number, options: FleetOptions, accountId: string): NewRow<'orders'> {
  const certificate = i % options.certificates;
  const name = fleetName(certificate);
  const created = Math.round(options.now - spread(i * 7 + 3) * ORDER_AGE_DAYS * DAY);
  const token = randomBytes(32).toString('base64url');
  const failed = i % 20 === 0;
  return {
    id: `ord_scale${i}`,
    certificate_id: fleetCertificateId(certificate),
    account_id: accountId,
    ca_url: options.caUrl,
    step: failed ? 'failed' : 'valid',
    order_url: `${options.caUrl}/order/${i}`,
    finalize_url: `${options.caUrl}/finalize/${i}`,
    certificate_url: failed ? null : `${options.caUrl}/cert/${i}`,
    authorizations: JSON.stringify([
      {
        url: `${options.caUrl}/authz/${i}`,
        identifier: { type: 'dns', value: name },
        wildcard: false,
        status: 'valid',
        challengeUrl: `${options.caUrl}/chall/${i}`,
        token,
        keyAuthorization: `${token}.${randomBytes(32).toString('base64url')}`,
      },
    ]),
    key_enc: placeholder(330),
    replaces: null,
    error: failed ? 'the CA: connection refused' : null,
    attempt: 0,
    retry_at: null,
    created_at: created,
    updated_at: created + 30_000,
    goal: 'valid',
    csr: null,
    lease_owner: null,
    lease_token: 1,
    lease_until: null,
    retired_at: i < options.certificates ? null : created + DAY,
  };
}

function renewedEvent(certificate: NewRow<'certificates'>, options: FleetOptions): NewRow<'events'> {
  return {
    subscription_id: options.subscriptionId,
    certificate_id: certificate.id,
    type: 'certificate.renewed',
    payload: JSON.stringify({ name: certificate.name, ca: options.caUrl }),
    created_at: certificate.updated_at,
    acked_at: certificate.updated_at + 60_000,
    emailed_at: certificate.updated_at,
  };
}

/** A well-spread number in [0, 1) for row i: the same fleet on every run. */
function spread(i: number): number {
  return (Math.imul(i, 2654435761) >>> 0) / 4294967296;
}

function placeholder(length: number): string {
  return randomBytes(Math.ceil((length * 3) / 4))
    .toString('base64')
    .slice(0, length);
}

function pemPlaceholder(length: number): string {
  const body = placeholder(length).replace(/.{64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
}
