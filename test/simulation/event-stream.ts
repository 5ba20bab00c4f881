// The renewal simulation's event stream: the events the engine would append to
// its events table, in simulated time. A simulated year of 10,000 certificates
// raises about two million, so they are kept in columns of numbers and each is
// built, with the engine's payload field for field, only when it is read.
import { EVENT_TYPES, type EventType } from '../../src/store/repositories/events.ts';
import { severity } from '../../src/engine/planner.ts';

const DAY = 86_400_000;

/** An event as the engine appends it, with the time it was raised at (simulated). */
export interface SimulatedEvent {
  at: number;
  type: EventType;
  certificateId: string;
  payload: Record<string, unknown>;
}

/** What the stream needs to know of a certificate to write its events. */
export interface EventSubject {
  index: number;
  id: string;
  name: string;
}

export interface EventFields {
  notAfter: number;
  orderNumber?: number;
  /** Index of the CA in the certificate's issuer list. */
  issuer?: number;
  serial?: number;
  daysLeft?: number;
  failures?: number;
  final?: boolean;
  error?: string;
}

export class SimulatedEventStream {
  readonly #issuerUrls: readonly string[];
  readonly #subjects: EventSubject[] = [];
  readonly #errors: string[] = [];
  readonly #counts = new Map<EventType, number>();
  #length = 0;
  #at = new Float64Array(1024);
  #notAfter = new Float64Array(1024);
  #type = new Uint8Array(1024);
  #subject = new Uint32Array(1024);
  #order = new Uint32Array(1024);
  #issuer = new Uint8Array(1024);
  #serial = new Uint32Array(1024);
  #days = new Int32Array(1024);
  #failures = new Uint32Array(1024);
  #final = new Uint8Array(1024);
  #error = new Uint16Array(1024);

  constructor(issuerUrls: readonly string[]) {
    this.#issuerUrls = issuerUrls;
  }

  get length(): number {
    return this.#length;
  }

  /** How many events of each type were raised. */
  counts(): Partial<Record<EventType, number>> {
    return Object.fromEntries(this.#counts);
  }

  append(at: number, type: EventType, subject: EventSubject, fields: EventFields): void {
    if (this.#length === this.#at.length) this.#grow();
    const i = this.#length++;
    this.#subjects[subject.index] = subject;
    this.#at[i] = at;
    this.#type[i] = EVENT_TYPES.indexOf(type);
    this.#subject[i] = subject.index;
    this.#notAfter[i] = fields.notAfter;
    this.#order[i] = fields.orderNumber ?? 0;
    this.#issuer[i] = fields.issuer ?? 0;
    this.#serial[i] = fields.serial ?? 0;
    this.#days[i] = fields.daysLeft ?? 0;
    this.#failures[i] = fields.failures ?? 0;
    this.#final[i] = fields.final ? 1 : 0;
    this.#error[i] = fields.error === undefined ? 0 : this.#errorIndex(fields.error);
    this.#counts.set(type, (this.#counts.get(type) ?? 0) + 1);
  }

  /** The i-th event, oldest first. */
  get(i: number): SimulatedEvent {
    const type = EVENT_TYPES[this.#type[i]];
    const subject = this.#subjects[this.#subject[i]];
    return {
      at: this.#at[i],
      type,
      certificateId: subject.id,
      payload: this.#payload(i, type, subject.name),
    };
  }

  *[Symbol.iterator](): IterableIterator<SimulatedEvent> {
    for (let i = 0; i < this.#length; i++) yield this.get(i);
  }

  /** The events of one type, oldest first. */
  *ofType(type: EventType): IterableIterator<SimulatedEvent> {
    const code = EVENT_TYPES.indexOf(type);
    for (let i = 0; i < this.#length; i++) if (this.#type[i] === code) yield this.get(i);
  }

  /** The events raised from `from` until before `until`, oldest first (the stream is in time order). */
  *between(from: number, until: number): IterableIterator<SimulatedEvent> {
    let low = 0;
    let high = this.#length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.#at[middle] < from) low = middle + 1;
      else high = middle;
    }
    for (let i = low; i < this.#length && this.#at[i] < until; i++) yield this.get(i);
  }

  /** The payload issuance.ts and scheduler.ts write for this type of event. */
  #payload(i: number, type: EventType, name: string): Record<string, unknown> {
    const notAfter = new Date(this.#notAfter[i]).toISOString();
    const msLeft = this.#notAfter[i] - this.#at[i];
    const orderId = `sim-order-${this.#order[i]}`;
    const ca = this.#issuerUrls[this.#issuer[i]];
    if (type === 'certificate.renewed')
      return { name, orderId, ca, serial: this.#serial[i].toString(16), notAfter };
    if (type === 'renewal.failed') {
      const error = this.#errors[this.#error[i] - 1];
      const final = this.#final[i] === 1;
      const common = {
        name,
        orderId,
        ca,
        error,
        final,
        failures: this.#failures[i],
        severity: severity(msLeft),
      };
      return { ...common, notAfter, daysLeft: Math.floor(msLeft / DAY) };
    }
    const daysLeft = this.#days[i];
    return { name, daysLeft, notAfter, severity: daysLeft === 0 ? 'critical' : severity(msLeft) };
  }

  /** Error messages are few and long: each is kept once, events keep its number (0: none). */
  #errorIndex(message: string): number {
    const known = this.#errors.indexOf(message);
    if (known >= 0) return known + 1;
    this.#errors.push(message);
    return this.#errors.length;
  }

  #grow(): void {
    const size = this.#at.length * 2;
    this.#at = resized(this.#at, new Float64Array(size));
    this.#notAfter = resized(this.#notAfter, new Float64Array(size));
    this.#type = resized(this.#type, new Uint8Array(size));
    this.#subject = resized(this.#subject, new Uint32Array(size));
    this.#order = resized(this.#order, new Uint32Array(size));
    this.#issuer = resized(this.#issuer, new Uint8Array(size));
    this.#serial = resized(this.#serial, new Uint32Array(size));
    this.#days = resized(this.#days, new Int32Array(size));
    this.#failures = resized(this.#failures, new Uint32Array(size));
    this.#final = resized(this.#final, new Uint8Array(size));
    this.#error = resized(this.#error, new Uint16Array(size));
  }
}

function resized<T extends Float64Array | Uint32Array | Int32Array | Uint16Array | Uint8Array>(
  from: T,
  to: T,
): T {
  to.set(from as never);
  return to;
}
