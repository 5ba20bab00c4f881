// Which events are worth an email: one message per change of state that
// needs (or ends the need for) someone's attention, never one per attempt.
//
//   renewal.failed, issuance.failed   the first failure after a success (or
//                                     the certificate's first outcome); repeated
//                                     failures are silent, the planner's expiry
//                                     warnings grow louder instead
//   certificate.renewed, .issued,     only when they end a run of failures
//   renewal.recovered                 ("recovered"); routine successes are silent
//   certificate.expiring              every one: the planner raises each
//                                     threshold (7, 3, 1 days) once per version
//   certificate.expired               every one
//   deployment.failed                 the first failure at a target after a
//                                     success there (or its first outcome);
//                                     retries that fail again are silent
//   deployment.succeeded              only when it ends a run of failures at
//                                     that target ("deployment recovered")
//   deployment.overdue                every one: raised once per target and
//                                     version, when a target is still not on
//                                     the current version long after it was issued
//   anything else                     silent: deletions and revocations are what
//                                     a person just did; unknown types are left
//                                     to the poll queue and webhooks
//   any event of a certificate deleted since: silent, nothing is left to act on
//
// "After a success" is read from the event log, not from the certificate's
// failure_count: the count is what it is when the mailer looks, possibly
// several events later, while the log says what came just before this event.
// So the decision is the same whenever, and on whichever instance, it is made.
import type { Db } from '../store/repositories/db.ts';
import { type EventRow, previousEventOfType, previousTargetOutcome } from '../store/repositories/email-queue.ts';
import type { EventType } from '../store/repositories/events.ts';

export type MailKind = 'failed' | 'recovered' | 'expiring' | 'expired' | 'deployment-failed' | 'deployment-recovered' | 'deployment-overdue';

const FAILURES: readonly EventType[] = ['renewal.failed', 'issuance.failed'];
const SUCCESSES: readonly EventType[] = ['certificate.issued', 'certificate.renewed'];
const OUTCOMES = [...FAILURES, ...SUCCESSES];

export interface MailDecision {
  kind: MailKind;
  /** For `recovered`: the failure it ends. */
  previous?: EventRow;
}

/** What message the event deserves, or undefined for none. */
export async function mailDecision(db: Db, event: EventRow): Promise<MailDecision | undefined> {
  // The certificate has been deleted since (certificate_id is set null): nothing left to act on.
  if (event.certificate_id === null) return undefined;
  if (event.type === 'certificate.expiring') return { kind: 'expiring' };
  if (event.type === 'certificate.expired') return { kind: 'expired' };
  if (event.type === 'deployment.overdue') return { kind: 'deployment-overdue' };
  if (event.type === 'deployment.failed' || event.type === 'deployment.succeeded') return deploymentDecision(db, event);
  const failure = FAILURES.includes(event.type);
  if (!failure && !SUCCESSES.includes(event.type)) return undefined;
  const previous = await previousEventOfType(db, event.certificate_id, event.id, OUTCOMES);
  const previousFailed = previous !== undefined && FAILURES.includes(previous.type);
  if (failure) return previousFailed ? undefined : { kind: 'failed' };
  return previousFailed ? { kind: 'recovered', previous } : undefined;
}

/** A deployment's outcome is compared with the previous outcome at the same target, not with other targets'. */
async function deploymentDecision(db: Db, event: EventRow): Promise<MailDecision | undefined> {
  const target = typeof event.payload.target === 'string' ? event.payload.target : '';
  const previous = await previousTargetOutcome(db, event.certificate_id!, event.id, target);
  const previousFailed = previous?.type === 'deployment.failed';
  if (event.type === 'deployment.failed') return previousFailed ? undefined : { kind: 'deployment-failed' };
  return previousFailed ? { kind: 'deployment-recovered', previous } : undefined;
}
