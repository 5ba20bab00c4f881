// The renewal planner's decisions, as pure functions of time and counts (the
// scheduler applies them to the store; the simulation replays a year of them):
// when to renew, how long to wait after a failure, which CA to try, and which
// expiry warning is due. DESIGN.md, "Renewal".
import { parseRenewBefore, type RenewalPolicy, renewalTime } from './renewal-policy.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Consecutive failures at one CA before the next CA in the certificate's list is tried. */
export const FAILURES_PER_ISSUER = 3;
/** Days before expiry at which certificate.expiring is raised, loudest last. */
export const EXPIRY_WARNINGS = [7, 3, 1] as const;
/** The longest wait between attempts, however far expiry is. */
const MAX_BACKOFF_MS = 6 * HOUR;
/** Attempts that must still fit before expiry when the backoff is capped. */
const ATTEMPTS_LEFT = 3;

export interface Window {
  start: number;
  end: number;
}

/**
 * When to renew: a random moment in the CA's ARI window when it gave one
 * (RFC 9773 §4.2), else when a third of the lifetime remains (half for ten days
 * or less). A renewBefore override also applies: whichever comes first.
 */
export function plannedRenewal(notBefore: number, notAfter: number, policy: RenewalPolicy, window?: Window, random = Math.random): number {
  const byPolicy = renewalTime(notBefore, notAfter, policy);
  if (!window) return byPolicy;
  const inWindow = Math.round(window.start + random() * Math.max(0, window.end - window.start));
  return policy.renewBefore ? Math.min(inWindow, notAfter - parseRenewBefore(policy.renewBefore, notAfter - notBefore)) : inWindow;
}

/**
 * When to try again after the `failures`-th consecutive failure: exponential
 * from one minute with jitter, capped so that at least three attempts still fit
 * before expiry; a CA's Retry-After (rate limits) is always honoured.
 */
export function retryTime(now: number, failures: number, notAfter: number | null, retryAfter?: number, random = Math.random): number {
  const exponential = MINUTE * 2 ** Math.min(Math.max(0, failures - 1), 20);
  const remaining = notAfter === null ? Number.POSITIVE_INFINITY : notAfter - now;
  const cap = Math.max(MINUTE, Math.min(MAX_BACKOFF_MS, remaining / (ATTEMPTS_LEFT + 1)));
  // "Equal jitter": between half and all of the wait, so instances spread out but never retry at once.
  const wait = Math.min(exponential, cap) * (0.5 + random() * 0.5);
  return Math.max(now + Math.round(wait), retryAfter ?? 0);
}

/**
 * Whether a certificate is due: at its retry time while a retry is pending,
 * otherwise at its planned renewal time (none: auto-renew is off). The
 * scheduler's query (store: dueCertificates) is this rule in SQL, and
 * `certkeep renew` applies it here.
 */
export function isDue(retryAt: number | null, nextRenewalAt: number | null, now: number): boolean {
  const at = retryAt ?? nextRenewalAt;
  return at !== null && at <= now;
}

/** Which of the certificate's CAs to use after `failures` consecutive failures. */
export function issuerIndex(failures: number, issuers: number): number {
  if (issuers <= 1) return 0;
  return Math.floor(failures / FAILURES_PER_ISSUER) % issuers;
}

/** How late a renewal may run before its certificate counts as off track. */
export const RENEWAL_GRACE_MS = HOUR;

/**
 * Whether renewal is going to plan: no failures, and the planned time not
 * passed by more than the grace. A certificate on track raises no expiry
 * warnings — a healthy 6-day certificate always has under 7 days left.
 */
export function onTrack(nextRenewalAt: number | null, failures: number, now: number): boolean {
  return failures === 0 && nextRenewalAt !== null && now < nextRenewalAt + RENEWAL_GRACE_MS;
}

/**
 * The expiry warning due now when it is louder than the last one raised:
 * 7, 3 or 1 (days left) for a certificate off track, 0 once expired;
 * undefined when none is due.
 */
export function expiryWarning(notAfter: number, now: number, warned: number | null, track = false): number | undefined {
  const left = notAfter - now;
  if (left > 0 && track) return undefined;
  const due = left <= 0 ? 0 : EXPIRY_WARNINGS.filter((days) => left <= days * DAY).at(-1);
  if (due === undefined) return undefined;
  return warned === null || due < warned ? due : undefined;
}

/** How loud an event about a certificate with `msLeft` to live should be. */
export function severity(msLeft: number | null): 'info' | 'warning' | 'critical' {
  if (msLeft === null) return 'warning';
  if (msLeft <= 3 * DAY) return 'critical';
  if (msLeft <= 7 * DAY) return 'warning';
  return 'info';
}

/** When to ask the CA's renewalInfo again: its Retry-After, kept between one minute and a day (RFC 9773 §4.3). */
export function nextAriCheck(now: number, retryAfter?: number): number {
  const wanted = retryAfter ?? now + 6 * HOUR;
  return Math.min(Math.max(wanted, now + MINUTE), now + DAY);
}
