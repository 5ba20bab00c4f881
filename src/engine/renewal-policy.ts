// When a certificate should be renewed, before any ARI window is known
// (DESIGN.md, renewal): when a third of its lifetime remains, half for
// lifetimes of ten days or less, unless the certificate says otherwise.
import { UsageError } from '../errors.ts';
import type { RenewalPolicy } from '../store/records.ts';

export type { RenewalPolicy } from '../store/records.ts';

export const DEFAULT_RENEWAL_POLICY: RenewalPolicy = { autoRenew: true };

const DAY = 86_400_000;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: DAY, w: 7 * DAY };

export function renewalTime(notBefore: number, notAfter: number, policy: RenewalPolicy): number {
  const lifetime = notAfter - notBefore;
  const before = policy.renewBefore
    ? parseRenewBefore(policy.renewBefore, lifetime)
    : lifetime <= 10 * DAY
      ? lifetime / 2
      : lifetime / 3;
  return Math.round(notAfter - before);
}

/** The time before expiry that `renewBefore` asks for, in milliseconds. */
export function parseRenewBefore(value: string, lifetime: number): number {
  const match = /^(\d+(?:\.\d+)?)\s*(%|s|m|h|d|w)$/.exec(value.trim());
  if (!match) {
    throw new UsageError(`renewBefore: "${value}" is not a duration like 30d, 12h, 90m or a share of the lifetime like 33%`, 'renewBefore');
  }
  const amount = Number(match[1]);
  if (match[2] === '%') {
    if (amount <= 0 || amount >= 100) throw new UsageError(`renewBefore: "${value}" must be between 0% and 100%`, 'renewBefore');
    return (lifetime * amount) / 100;
  }
  return amount * UNIT_MS[match[2]];
}
