// The integer ids the compatibility APIs show for subscriptions and
// certificates (their vendors' clients declare ids as integers), and finding a
// row again by one: a client may send back the number where a name or a
// subscription id goes.
import { NotFoundError } from '../errors.ts';
import { type CertificateRow, findCertificate, getCertificate } from '../store/repositories/certificates.ts';
import * as numbers from '../store/repositories/numbers.ts';
import type { EngineContext } from './context.ts';

const DIGITS = /^[1-9][0-9]{0,9}$/;

/** The certificates' numbers, by certificate id. */
export function certificateNumbers(ctx: EngineContext, certificateIds: readonly string[]): Promise<Map<string, number>> {
  return numbers.certificateNumbers(ctx.store.db, certificateIds);
}

/** The numbers of a subscription's certificates, by certificate id. */
export function certificateNumbersIn(ctx: EngineContext, subscriptionId: string): Promise<Map<string, number>> {
  return numbers.certificateNumbersOf(ctx.store.db, subscriptionId);
}

export async function certificateNumber(ctx: EngineContext, certificateId: string): Promise<number> {
  const number = (await certificateNumbers(ctx, [certificateId])).get(certificateId);
  if (number === undefined) throw new NotFoundError(`certificate ${certificateId} is no longer in the store`);
  return number;
}

export async function subscriptionNumber(ctx: EngineContext, subscriptionId: string): Promise<number> {
  const number = await numbers.subscriptionNumber(ctx.store.db, subscriptionId);
  if (number === undefined) throw new NotFoundError(`subscription ${subscriptionId} is no longer in the store`);
  return number;
}

/** Whether `reference` names the subscription: its id, or its number. */
export async function isSubscription(ctx: EngineContext, subscriptionId: string, reference: string): Promise<boolean> {
  if (reference === subscriptionId) return true;
  return DIGITS.test(reference) && (await numbers.subscriptionOfNumber(ctx.store.db, Number(reference))) === subscriptionId;
}

/**
 * The subscription's certificate a client names: by its name, or — when no
 * certificate has that name and it is all digits — by its number. Another
 * subscription's certificate is reported exactly like a missing one.
 */
export async function mustFindCertificateByNameOrNumber(ctx: EngineContext, subscriptionId: string, reference: string): Promise<CertificateRow> {
  const named = await findCertificate(ctx.store.db, subscriptionId, reference);
  if (named) return named;
  const id = DIGITS.test(reference) ? await numbers.certificateOfNumber(ctx.store.db, subscriptionId, Number(reference)) : undefined;
  const numbered = id ? await getCertificate(ctx.store.db, id) : undefined;
  if (!numbered) throw new NotFoundError(`no certificate named or numbered "${reference}" in this subscription`);
  return numbered;
}
