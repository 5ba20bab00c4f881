// Who a subscription's notification mail goes to. The CLI (admin) and the API
// read and replace the list here; the email dispatcher reads it at send time,
// so a corrected address also reaches the messages still waiting to be sent.
import type { NotifyContext } from './context.ts';
import { NotFoundError, UsageError } from '../errors.ts';
import { getNotifyEmails, setNotifyEmails } from '../store/repositories/subscriptions.ts';
import { EMAIL_EXAMPLE, isEmailAddress } from './email-address.ts';

export const MAX_RECIPIENTS = 20;

/** The addresses trimmed and without repeats (compared ignoring case); a UsageError naming `field` for a bad one. */
export function checkRecipients(emails: readonly string[], field: string): string[] {
  const unique = new Map<string, string>();
  for (const raw of emails) {
    const email = raw.trim();
    if (!isEmailAddress(email)) {
      throw new UsageError(`${field}: "${raw}" is not an email address; write it as ${EMAIL_EXAMPLE}`, field);
    }
    if (!unique.has(email.toLowerCase())) unique.set(email.toLowerCase(), email);
  }
  if (unique.size > MAX_RECIPIENTS) {
    throw new UsageError(`${field}: at most ${MAX_RECIPIENTS} addresses; use a mailing list for more`, field);
  }
  return [...unique.values()];
}

export async function notificationRecipients(ctx: NotifyContext, subscriptionId: string): Promise<string[]> {
  const emails = await getNotifyEmails(ctx.store.db, subscriptionId);
  if (!emails) throw noSubscription(subscriptionId);
  return emails;
}

/** Replaces the subscription's recipients ([] for none) and returns them as stored. */
export async function setNotificationRecipients(
  ctx: NotifyContext,
  subscriptionId: string,
  emails: readonly string[],
  field = 'emails',
): Promise<string[]> {
  const checked = checkRecipients(emails, field);
  if (!(await setNotifyEmails(ctx.store.db, subscriptionId, checked))) throw noSubscription(subscriptionId);
  return checked;
}

function noSubscription(id: string): NotFoundError {
  return new NotFoundError(`no subscription ${id}; see certkeep admin subscription list`);
}
