// The text of notification mail: a subject that says which certificate and
// what happened, and a plain-text body with the CA's error, the expiry date
// and what to do about it.
import { isoTime } from '../time/iso.ts';
import type { EventRow } from '../store/repositories/email-queue.ts';
import { DEFAULT_SUBSCRIPTION_ID } from '../store/repositories/subscriptions.ts';
import type { MailKind } from './email-policy.ts';

const DAY_MS = 86_400_000;

/** What the dispatcher found out about the event's certificate. */
export interface MessageFacts {
  kind: MailKind;
  event: EventRow;
  /** The names the certificate covers ([] when unknown). */
  names: string[];
  /** Expiry of the certificate in service; null when none was ever issued. */
  notAfter: number | null;
  autoRenew: boolean;
  /** The certificate's last error, for warnings about expiry. */
  lastError: string | null;
  /** For `recovered`: the failure that came just before. */
  previousError: string | null;
  subscription: { id: string; name: string };
}

export interface MailText {
  subject: string;
  text: string;
}

export function composeMessage(facts: MessageFacts, now: number): MailText {
  const { payload } = facts.event;
  // Certificate names are plain already; a control character must still never reach a header.
  const name = text(payload.name)?.replace(/\p{Cc}/gu, ' ') ?? 'a certificate';
  const body = BODIES[facts.kind](facts, payload, name, now);
  const covers = facts.names.length > 0 ? [`Names covered: ${facts.names.join(', ')}`, ''] : [];
  const footer = [
    '--',
    `certkeep, subscription ${facts.subscription.name} (${facts.subscription.id})`,
    `event ${facts.event.type} #${facts.event.id} at ${isoTime(facts.event.created_at)}`,
  ];
  return {
    subject: `[certkeep] ${name}: ${body.summary}`,
    text: [...body.lines, '', ...covers, ...footer, ''].join('\n'),
  };
}

type Payload = Record<string, unknown>;
type Body = (
  facts: MessageFacts,
  payload: Payload,
  name: string,
  now: number,
) => { summary: string; lines: string[] };

const BODIES: Record<MailKind, Body> = {
  'deployment-failed': deploymentFailed,
  'deployment-recovered': deploymentRecovered,
  'deployment-overdue': (_facts, payload, name) => {
    const directory = text(payload.directory) ?? 'its target';
    const host = text(payload.host);
    return {
      summary: `not deployed to ${directory} yet`,
      lines: [
        `The certificate ${name}${text(payload.serial) ? ` (serial ${text(payload.serial)})` : ''} was issued ${typeof payload.overdueMinutes === 'number' ? `more than ${payload.overdueMinutes} minutes ago` : 'a while ago'} and is still not deployed to ${directory}${host ? ` on ${host}` : ''}.`,
        '',
        text(payload.error) ? `The last attempt failed: ${text(payload.error)}` : payload.agent ? 'Its agent has not reported it deployed: is it running, and can it reach the server?' : 'It has not been deployed yet.',
        '',
        'The web server there still serves the version before it.',
      ],
    };
  },
  failed: (facts, payload, name, now) => {
    const renewal = facts.event.type === 'renewal.failed';
    return {
      summary: renewal ? 'renewal failed' : 'issuance failed',
      lines: [
        `certkeep could not ${renewal ? 'renew' : 'issue'} the certificate ${name}.`,
        '',
        `The CA's error: ${text(payload.error) ?? 'none given'}`,
        '',
        facts.notAfter === null
          ? `No certificate has been issued for ${name} yet.`
          : `The certificate in service is valid until ${isoTime(facts.notAfter)} (${inDays(facts.notAfter, now)}).`,
        renewal
          ? 'certkeep keeps trying, waiting longer between attempts. It does not mail about every\n' +
            'failed attempt: you will hear when a renewal succeeds, and as expiry comes near.'
          : 'A failure that may heal (network, timeout) is tried again; a refusal by the CA is not:\n' +
            'fix the cause, then ask for a new attempt. You will hear when it succeeds.',
        '',
        ...whatToDo(name, facts.subscription.id),
      ],
    };
  },
  recovered: (facts, payload, name) => {
    const issued = facts.event.type === 'certificate.issued';
    const notAfter = dateOf(payload.notAfter) ?? facts.notAfter;
    return {
      summary: issued ? 'issued after failures' : 'renewal recovered',
      lines: [
        `certkeep ${issued ? 'issued' : 'renewed'} the certificate ${name} after failed attempts.`,
        '',
        `The new certificate${text(payload.serial) ? ` (serial ${text(payload.serial)})` : ''} is valid until ${notAfter === null ? 'an unknown date' : isoTime(notAfter)}.`,
        ...(facts.previousError ? [`The last failure was: ${facts.previousError}`] : []),
        '',
        'Nothing to do.',
      ],
    };
  },
  expiring: (facts, payload, name, now) => {
    const notAfter = dateOf(payload.notAfter) ?? facts.notAfter;
    const days = typeof payload.daysLeft === 'number' ? payload.daysLeft : undefined;
    return {
      summary: days === undefined ? 'expires soon' : `expires in ${days} ${days === 1 ? 'day' : 'days'}`,
      lines: [
        `The certificate ${name} expires ${notAfter === null ? 'soon' : `on ${isoTime(notAfter)} (${inDays(notAfter, now)})`} and has not been renewed.`,
        facts.autoRenew
          ? `certkeep's last error: ${facts.lastError ?? 'none recorded'}`
          : 'Automatic renewal is turned off for this certificate.',
        'Once it expires, clients connecting to the names it covers will refuse the connection.',
        '',
        ...whatToDo(name, facts.subscription.id),
      ],
    };
  },
  expired: (facts, payload, name) => {
    const notAfter = dateOf(payload.notAfter) ?? facts.notAfter;
    return {
      summary: 'certificate expired',
      lines: [
        `The certificate ${name} expired${notAfter === null ? '' : ` on ${isoTime(notAfter)}`}. Clients connecting to the names it covers now refuse the connection.`,
        facts.autoRenew
          ? `certkeep's last error: ${facts.lastError ?? 'none recorded'}`
          : 'Automatic renewal is turned off for this certificate.',
        '',
        ...whatToDo(name, facts.subscription.id),
      ],
    };
  },
};

function deploymentFailed(_facts: MessageFacts, payload: Payload, name: string) {
  const directory = text(payload.directory) ?? 'its target';
  const rolledBack = payload.rolledBack === true;
  return {
    summary: `deployment to ${directory} failed`,
    lines: [
      `certkeep could not deploy the certificate ${name}${text(payload.serial) ? ` (serial ${text(payload.serial)})` : ''} to ${directory}${text(payload.host) ? ` on ${text(payload.host)}` : ''}.`,
      '',
      `What failed: ${text(payload.error) ?? 'no reason given'}`,
      ...(text(payload.rollbackError) ? [`The rollback went wrong too: ${text(payload.rollbackError)}`] : []),
      '',
      rolledBack
        ? 'The files are back on the version deployed before, which the web server keeps serving.'
        : 'The files were not rolled back (see above): check what the web server serves.',
      'certkeep tries again at every run (certkeep renew --all, or the server, waiting longer between',
      'attempts). It does not mail about every failed attempt: you will hear when a deployment succeeds.',
      '',
      'What to do:',
      '  1. Read the error: it names the command that failed (with its stderr) or the address that served another serial.',
      `  2. Fix the web server's configuration or the command, then: certkeep deploy run ${name}`,
    ],
  };
}

function deploymentRecovered(facts: MessageFacts, payload: Payload, name: string) {
  const directory = text(payload.directory) ?? 'its target';
  return {
    summary: `deployed to ${directory} after failures`,
    lines: [
      `certkeep deployed the certificate ${name}${text(payload.serial) ? ` (serial ${text(payload.serial)})` : ''} to ${directory} after failed attempts.`,
      text(payload.verifiedAt) ? `It was verified as served at ${text(payload.verifiedAt)}.` : 'The target verifies nothing (no --verify addresses).',
      ...(facts.previousError ? [`The last failure was: ${facts.previousError}`] : []),
      '',
      'Nothing to do.',
    ],
  };
}

function whatToDo(name: string, subscriptionId: string): string[] {
  const path = `/api/v1/certificates/${encodeURIComponent(name)}`;
  // The certkeep CLI on the server's machine works in the default subscription only.
  const cli = (command: string) =>
    subscriptionId === DEFAULT_SUBSCRIPTION_ID ? ` (or: certkeep ${command} ${name})` : '';
  return [
    'What to do:',
    '  1. Read the error: it usually names a DNS record or challenge the CA could not check, or a rate limit.',
    `  2. See the certificate: GET ${path}${cli('show')}`,
    `  3. Once fixed, renew at once: POST ${path}/renew${cli('renew')}`,
  ];
}

function inDays(at: number, now: number): string {
  const days = Math.floor((at - now) / DAY_MS);
  if (at <= now) return 'already expired';
  return days < 1 ? 'less than a day from now' : `${days} ${days === 1 ? 'day' : 'days'} from now`;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function dateOf(value: unknown): number | null {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return Number.isNaN(ms) ? null : ms;
}
