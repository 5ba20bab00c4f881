// Mails events to each subscription's recipients over SMTP: one message per
// change of state (email-policy.ts), at most one per event.
//
// The queue is the events table's emailed_at column (repositories/email-queue.ts).
// Each tick reads the due events in id order and, for each one:
//   - not worth a message, no recipients, or never looked at and older than
//     `staleAfterMs` (a backlog from before mail was set up, no longer news):
//     marked done in one compare-and-set, nothing sent;
//   - otherwise claimed with a compare-and-set to "held until now + leaseMs",
//     sent, and marked done under that same claim.
// So two instances never send the same event at the same time. A process that
// dies between the claim and marking the event done leaves its claim to run
// out, and then another tick sends the event again: a rare duplicate (when the
// message had already been accepted) rather than a lost warning. The message's
// Message-ID is derived from the event, so mail systems can spot such a copy.
//
// A failed send never loses the event:
//   - the server could not be used (connection, TLS, authentication, timeout):
//     this dispatcher pauses (baseDelayMs, doubling up to maxDelayMs) and the
//     event, with every other one due meanwhile, waits for the pause to end;
//     they then go out in their order. Waiting events count as looked at, so
//     an outage longer than staleAfterMs does not make them stale;
//   - the server refused this message (recipients or content: EENVELOPE,
//     EMESSAGE): only this event waits, as long again as it has been waiting,
//     between baseDelayMs and maxDelayMs. Recipients are read again at each
//     attempt, so correcting an address is enough.
// Log lines name the server as smtp://user@host:port, never the password.
import { createTransport, type NodemailerError, type SMTPTransportOptions } from 'nodemailer';
import type { Clock } from '../time/clock.ts';
import type { NotifyContext } from './context.ts';
import { Ticker } from '../time/ticker.ts';
import { getCertificate, getVersionDates } from '../store/repositories/certificates.ts';
import { type EventRow, dueEmailEvents, swapEmailState } from '../store/repositories/email-queue.ts';
import { getSubscription, type SubscriptionRow } from '../store/repositories/subscriptions.ts';
import { type MailDecision, mailDecision } from './email-policy.ts';
import { composeMessage, type MailText } from './email-messages.ts';

export interface SmtpSettings {
  host: string;
  port: number;
  /** TLS from the first byte (smtps, usually port 465); otherwise STARTTLS when the server offers it. */
  secure?: boolean;
  user?: string;
  password?: string;
  /** The sender: `certkeep@example.com` or `certkeep <certkeep@example.com>`. */
  from: string;
}

export interface EmailDispatcherOptions {
  smtp: SmtpSettings;
  /** Time between ticks when started (default 10 s). */
  intervalMs?: number;
  /** Events read per round (default 50). */
  batchSize?: number;
  /** How long a claim holds; longer than a send can take (default 10 minutes). */
  leaseMs?: number;
  /** First wait after a failed send (default 30 s)… */
  baseDelayMs?: number;
  /** …growing to at most this (default 15 minutes). */
  maxDelayMs?: number;
  /** Events never looked at and older than this are marked done unsent (default 2 days). */
  staleAfterMs?: number;
  /** Each SMTP stage: connecting, the greeting, an idle socket (default 30 s). */
  timeoutMs?: number;
  /** Default: the context's clock. */
  clock?: Clock;
  /** Failed sends and store errors, one line each (default: stderr). */
  /** Warnings; `details` names the event (id, type, subscription) for a structured log. */
  log?: (message: string, details?: Record<string, unknown>) => void;
  /** Told of every mail: delivered, or retrying (tried again later). */
  onDelivery?: (outcome: 'delivered' | 'retrying') => void;
}


const ROUNDS_PER_TICK = 20;
const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|::1|\[::1\])$/i;

/** A dispatcher ticking every intervalMs until stop(). */
export function startEmailDispatcher(ctx: NotifyContext, options: EmailDispatcherOptions): EmailDispatcher {
  const dispatcher = new EmailDispatcher(ctx, options);
  dispatcher.start();
  return dispatcher;
}

/** Settings as text for logs and output: smtp://user@host:port, never the password. */
export function smtpText(smtp: Pick<SmtpSettings, 'host' | 'port' | 'secure' | 'user'>): string {
  const user = smtp.user ? `${encodeURIComponent(smtp.user)}@` : '';
  return `${smtp.secure ? 'smtps' : 'smtp'}://${user}${smtp.host.includes(':') ? `[${smtp.host}]` : smtp.host}:${smtp.port}`;
}

/** Sends on tick(); start() ticks every intervalMs (tests tick by hand). */
export class EmailDispatcher {
  readonly #ctx: NotifyContext;
  readonly #clock: Clock;
  readonly #options: Required<Omit<EmailDispatcherOptions, 'clock' | 'smtp'>>;
  readonly #from: string;
  readonly #server: string;
  readonly #transport: ReturnType<typeof smtpTransport>;
  /** Ticks of one dispatcher never overlap. */
  readonly #ticker: Ticker<void>;
  /** While the server could not be used: no attempt before this time. */
  #pausedUntil = 0;
  #serverFailures = 0;

  constructor(ctx: NotifyContext, options: EmailDispatcherOptions) {
    this.#ctx = ctx;
    this.#clock = options.clock ?? ctx.clock;
    this.#options = {
      intervalMs: options.intervalMs ?? 10_000,
      batchSize: options.batchSize ?? 50,
      leaseMs: options.leaseMs ?? 600_000,
      baseDelayMs: options.baseDelayMs ?? 30_000,
      maxDelayMs: options.maxDelayMs ?? 900_000,
      staleAfterMs: options.staleAfterMs ?? 2 * 86_400_000,
      timeoutMs: options.timeoutMs ?? 30_000,
      log: options.log ?? ((message) => process.stderr.write(`certkeep email: ${message}\n`)),
      onDelivery: options.onDelivery ?? (() => {}),
    };
    this.#from = options.smtp.from;
    this.#server = smtpText(options.smtp);
    this.#transport = smtpTransport(options.smtp, this.#options.timeoutMs);
    const onError = (error: unknown) => this.#options.log(`tick failed: ${(error as Error).message}`);
    this.#ticker = new Ticker(() => this.#tick(), { clock: this.#clock, intervalMs: this.#options.intervalMs, onError });
  }

  start(): void {
    this.#ticker.start();
  }

  /** Sends what is due now; store errors are thrown (the claimed event is sent again once its claim runs out). */
  tick(): Promise<void> {
    return this.#ticker.tick();
  }

  /** Stops ticking, waits for the tick in flight and closes the SMTP connection. */
  async stop(): Promise<void> {
    await this.#ticker.stop();
    this.#transport.close();
  }

  async #tick(): Promise<void> {
    for (let round = 0; round < ROUNDS_PER_TICK; round++) {
      const events = await dueEmailEvents(this.#ctx.store.db, this.#clock.now(), this.#options.batchSize);
      for (const event of events) await this.#handle(event);
      if (events.length < this.#options.batchSize) return;
    }
  }

  async #handle(event: EventRow): Promise<void> {
    const db = this.#ctx.store.db;
    const seen = event.emailed_at;
    const now = this.#clock.now();
    const stale = seen === null && now - event.created_at > this.#options.staleAfterMs;
    const decision = stale ? undefined : await mailDecision(db, event);
    const subscription = decision ? await getSubscription(db, event.subscription_id) : undefined;
    const recipients = subscription?.notify_emails ?? [];
    if (!decision || !subscription || recipients.length === 0) {
      await swapEmailState(db, event.id, seen, now);
      return;
    }
    if (now < this.#pausedUntil) {
      // The server could not be used a moment ago: wait with the others, in order.
      await swapEmailState(db, event.id, seen, -this.#pausedUntil);
      return;
    }
    const claim = -(now + this.#options.leaseMs);
    if (!(await swapEmailState(db, event.id, seen, claim))) return;
    const message = await this.#compose(event, decision, subscription);
    try {
      await this.#send(event, recipients, message);
    } catch (error) {
      await this.#failed(event, claim, error as NodemailerError);
      this.#options.onDelivery('retrying');
      return;
    }
    this.#serverFailures = 0;
    await swapEmailState(db, event.id, claim, this.#clock.now());
    this.#options.onDelivery('delivered');
  }

  async #compose(event: EventRow, decision: MailDecision, subscription: SubscriptionRow): Promise<MailText> {
    const db = this.#ctx.store.db;
    const certificate = event.certificate_id ? await getCertificate(db, event.certificate_id) : undefined;
    const version = certificate?.current_version_id
      ? await getVersionDates(db, certificate.current_version_id)
      : undefined;
    return composeMessage(
      {
        kind: decision.kind,
        event,
        names: certificate ? certificate.identifiers.map((i) => i.value) : [],
        notAfter: version?.not_after ?? null,
        autoRenew: certificate ? certificate.renewal_policy.autoRenew !== false : true,
        lastError: certificate?.last_error ?? null,
        previousError: decision.previous ? errorOf(decision.previous) : null,
        subscription: { id: subscription.id, name: subscription.name },
      },
      this.#clock.now(),
    );
  }

  async #send(event: EventRow, recipients: string[], message: MailText): Promise<void> {
    const info = await this.#transport.sendMail({
      from: this.#from,
      to: recipients,
      subject: message.subject,
      text: message.text,
      messageId: `<certkeep.event.${event.id}.${event.created_at}.${event.subscription_id}@${domainOf(this.#from)}>`,
      // RFC 3834: no vacation replies to a machine's mail.
      headers: { 'Auto-Submitted': 'auto-generated', 'X-Certkeep-Event': event.type },
    });
    const rejected = info.rejected;
    if (rejected.length > 0) {
      this.#options.log(
        `${about(event)}: ${this.#server} refused ${rejected.join(', ')}; sent to the others`,
        details(event),
      );
    }
  }

  async #failed(event: EventRow, claim: number, error: NodemailerError): Promise<void> {
    const db = this.#ctx.store.db;
    const now = this.#clock.now();
    const reason = `${error.code ?? 'error'} ${error.message}`;
    if (error.code === 'EENVELOPE' || error.code === 'EMESSAGE') {
      const delay = Math.min(
        this.#options.maxDelayMs,
        Math.max(this.#options.baseDelayMs, now - event.created_at),
      );
      await swapEmailState(db, event.id, claim, -(now + delay));
      this.#options.log(
        `${about(event)} not sent, ${this.#server} refused it (${reason}); trying again in ${seconds(delay)}`,
        details(event),
      );
      return;
    }
    this.#serverFailures += 1;
    const delay = Math.min(
      this.#options.maxDelayMs,
      this.#options.baseDelayMs * 2 ** (this.#serverFailures - 1),
    );
    this.#pausedUntil = now + delay;
    await swapEmailState(db, event.id, claim, -this.#pausedUntil);
    this.#options.log(`cannot send through ${this.#server} (${reason}); trying again in ${seconds(delay)}`);
  }
}

/** The event as a warning names it: what it is, not only its number. */
function about(event: EventRow): string {
  const name = typeof event.payload.name === 'string' ? ` for ${event.payload.name}` : '';
  return `mail of ${event.type}${name} (event ${event.id})`;
}

function details(event: EventRow): Record<string, unknown> {
  return { event: event.id, type: event.type, subscription: event.subscription_id };
}

function smtpTransport(smtp: SmtpSettings, timeoutMs: number) {
  return createTransport(smtpTransportOptions(smtp, timeoutMs));
}

export function smtpTransportOptions(smtp: SmtpSettings, timeoutMs = 30_000): SMTPTransportOptions {
  const credentials = smtp.user !== undefined && smtp.user !== '';
  return {
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure ?? false,
    auth: credentials ? { user: smtp.user, pass: smtp.password ?? '' } : undefined,
    // A password crosses the network only encrypted; on loopback there is no network.
    requireTLS: credentials && !smtp.secure && !LOOPBACK.test(smtp.host),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    logger: false,
    debug: false,
  };
}

function errorOf(event: EventRow): string | null {
  const { error } = event.payload;
  return typeof error === 'string' ? error : null;
}

function domainOf(from: string): string {
  return /@([^\s>]+)>?\s*$/.exec(from)?.[1] ?? 'certkeep.invalid';
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)} s`;
}
