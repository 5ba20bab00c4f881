// One ACME account per subscription, CA and contact, created on first use and reused.
import type { KeyObject } from 'node:crypto';
import type { AcmeClient } from '../acme/index.ts';
import { generateKey, privateKeyFromPem, privateKeyToPem } from '../pki/index.ts';
import { newId } from '../store/ids.ts';
import { findAccount, insertAccount, updateAccountUrl } from '../store/repositories/accounts.ts';
import type { EngineContext, ReadyAccount } from './context.ts';
import { type EabCredentials, eabAad, type IssuerSpec } from './issuers.ts';

export type { ReadyAccount } from './context.ts';

const keyAad = (id: string) => `acme_account:${id}:key`;

/**
 * The account is created at the CA before anything is stored: a CA that cannot
 * be reached leaves no record behind. A process killed between the CA's answer
 * and the insert leaves an unused account at the CA, which is harmless.
 */
export async function ensureAccount(
  ctx: EngineContext,
  subscriptionId: string,
  issuer: IssuerSpec,
  eab?: EabCredentials,
): Promise<ReadyAccount> {
  const contact = issuer.email ?? '';
  const cacheKey = accountKey(subscriptionId, issuer);
  let ready = ctx.accounts.get(cacheKey);
  if (!ready) {
    // Concurrent orders for one new account share a single newAccount request.
    ready = loadOrCreateAccount(ctx, subscriptionId, issuer, contact, eab);
    ctx.accounts.set(cacheKey, ready);
    ready.catch(() => ctx.accounts.delete(cacheKey));
  }
  return ready;
}

/** Accounts are told apart by subscription, CA and contact. */
export function accountKey(subscriptionId: string, issuer: IssuerSpec): string {
  return `${subscriptionId} ${issuer.caUrl} ${issuer.email ?? ''}`;
}

async function loadOrCreateAccount(
  ctx: EngineContext,
  subscriptionId: string,
  issuer: IssuerSpec,
  contact: string,
  eab: EabCredentials | undefined,
): Promise<ReadyAccount> {
  const existing = await findAccount(ctx.store.db, subscriptionId, issuer.caUrl, contact);
  if (existing?.account_url) {
    const key = privateKeyFromPem(ctx.store.secrets.decryptString(existing.key_enc, keyAad(existing.id)));
    return { row: existing, client: clientFor(ctx, existing.id, issuer, contact, key, existing.account_url) };
  }

  const id = newId('acct');
  const key = await generateKey('ec-p256');
  const client = clientFor(ctx, id, issuer, contact, key);
  ctx.progress(`creating an ACME account at ${issuer.caUrl}`);
  // EAB given now (the CLI's flags) or kept with the issuer (a fallback CA's account, created on first use).
  const { url } = await client.createAccount({ ...registration(contact), externalAccountBinding: eab ?? keptEab(ctx, issuer) });
  if (!contact) ctx.notice('note: no --email given, so the CA cannot reach you about problems with your certificates (give --email ADDR or CERTKEEP_EMAIL)');
  const row = {
    id,
    subscription_id: subscriptionId,
    ca_url: issuer.caUrl,
    contact,
    key_enc: ctx.store.secrets.encrypt(privateKeyToPem(key), keyAad(id)),
    account_url: url,
    created_at: ctx.clock.now(),
  };
  try {
    await insertAccount(ctx.store.db, row);
  } catch (error) {
    // Another instance created the account at the same moment: use the one it stored.
    const stored = await findAccount(ctx.store.db, subscriptionId, issuer.caUrl, contact);
    if (!stored?.account_url) throw error;
    const storedKey = privateKeyFromPem(ctx.store.secrets.decryptString(stored.key_enc, keyAad(stored.id)));
    return { row: stored, client: clientFor(ctx, stored.id, issuer, contact, storedKey, stored.account_url) };
  }
  return { row, client };
}

function registration(contact: string) {
  return { contact: contact ? [`mailto:${contact}`] : [], termsOfServiceAgreed: true };
}

/**
 * The client registers the same key again when the CA has forgotten the
 * account (acme/client.ts, AccountRecovery); the new URL is stored here before
 * the client uses it, so every process and restart finds it.
 */
function clientFor(ctx: EngineContext, accountId: string, issuer: IssuerSpec, contact: string, key: KeyObject, accountUrl?: string): AcmeClient {
  return ctx.clients.forAccount(accountId, {
    directoryUrl: issuer.caUrl,
    accountKey: key,
    accountUrl,
    caCert: issuer.caCertPem,
    // A CA a tenant named: connections checked against the operator's outbound ranges, short waits.
    ...ctx.limits?.acmeOptions(issuer.caUrl),
    recovery: {
      registration: registration(contact),
      onNewAccountUrl: async (url, previousUrl) => {
        await updateAccountUrl(ctx.store.db, accountId, url);
        ctx.progress(`the CA no longer knew account ${previousUrl}; registered its key again as ${url}`);
      },
    },
  });
}

function keptEab(ctx: EngineContext, issuer: IssuerSpec): EabCredentials | undefined {
  if (!issuer.eab) return undefined;
  return { kid: issuer.eab.kid, hmacKey: ctx.store.secrets.decryptString(issuer.eab.hmacKeySealed, eabAad(issuer.caUrl, issuer.eab.kid)) };
}
