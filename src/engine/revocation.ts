// RFC 8555 §7.6: revoke the current version with the account that ordered it.
// A certificate revoked already — here, or at its CA by other means (the CA's
// alreadyRevoked, §6.7) — is a conflict, and is stored as revoked.
import { AcmeProblemError } from '../acme/index.ts';
import { certificateDer } from '../pki/index.ts';
import { getAccount } from '../store/repositories/accounts.ts';
import { updateCertificate } from '../store/repositories/certificates.ts';
import { getOrder } from '../store/repositories/orders.ts';
import { appendEvent } from '../store/repositories/events.ts';
import { ensureAccount } from './accounts.ts';
import type { EngineContext } from './context.ts';
import { ConflictError, UsageError } from '../errors.ts';
import { currentVersion } from './files.ts';
import { issuerAt } from './issuers.ts';

/** RFC 5280 §5.3.1 reason codes that ACME CAs accept. */
export const REVOCATION_REASONS: Record<string, number> = {
  unspecified: 0,
  keyCompromise: 1,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
};

export function revocationReason(name: string | undefined): number {
  if (name === undefined) return 0;
  const code = REVOCATION_REASONS[name];
  if (code === undefined) {
    throw new UsageError(`reason: "${name}" is not a reason; use one of ${Object.keys(REVOCATION_REASONS).join(', ')}`, 'reason');
  }
  return code;
}

export async function revokeCertificate(ctx: EngineContext, subscriptionId: string, name: string, reason: number): Promise<{ serial: string }> {
  const { certificate, version } = await currentVersion(ctx, subscriptionId, name);
  if (certificate.state === 'revoked') throw new ConflictError(`certificate "${name}" is revoked already (serial ${version.serial}); issue a new one to replace it`);
  const issuer = issuerAt(certificate, version.ca_url);
  const order = version.order_id ? await getOrder(ctx.store.db, version.order_id) : undefined;
  const ordering = order ? await getAccount(ctx.store.db, order.account_id) : undefined;
  const account = await ensureAccount(ctx, subscriptionId, { ...issuer, email: ordering?.contact || issuer.email });
  const revoked = { subscriptionId, certificateId: certificate.id, name, serial: version.serial, reason };
  try {
    await account.client.revokeCertificate(certificateDer(version.chain_pem), { reason });
  } catch (error) {
    if (!(error instanceof AcmeProblemError && error.acmeType === 'alreadyRevoked')) throw error;
    await markRevoked(ctx, revoked);
    throw new ConflictError(`certificate "${name}" was revoked already at its CA (serial ${version.serial}); issue a new one to replace it`, { cause: error });
  }
  await markRevoked(ctx, revoked);
  return { serial: version.serial };
}

async function markRevoked(ctx: EngineContext, revoked: { subscriptionId: string; certificateId: string; name: string; serial: string; reason: number }): Promise<void> {
  const { subscriptionId, certificateId, name, serial, reason } = revoked;
  const now = ctx.clock.now();
  await ctx.store.db.transaction().execute(async (trx) => {
    await updateCertificate(trx, certificateId, { state: 'revoked', next_renewal_at: null, updated_at: now });
    await appendEvent(trx, { subscriptionId, certificateId, type: 'certificate.revoked', payload: { name, serial, reason } }, now);
  });
  ctx.notifyChange();
}
