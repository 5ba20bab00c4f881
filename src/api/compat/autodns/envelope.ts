// The vendor's answer envelope: every response, success or error, is
// {stid, status: {code, text, type}, object, data: [...], messages: [...]};
// the status code is S<task> on success, N<task> when an asynchronous task was
// accepted (its result comes by poll) and E<task> on failure.
import { randomInt } from 'node:crypto';
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';

/** The vendor's task codes, as the seed and its documentation name them; `revoke` and `comment` have none there and are certkeep's own. */
export const TASKS = {
  create: '400101',
  reissue: '400102',
  delete: '400103',
  info: '400104',
  search: '400105',
  renew: '400106',
  revoke: '400107',
  prepareOrder: '400110',
  comment: '400111',
  pollInfo: '0905',
  pollConfirm: '0906',
} as const;
export type Task = (typeof TASKS)[keyof typeof TASKS];

export const StatusType = Type.Union(['SUCCESS', 'ERROR', 'NOTIFY', 'NOTICE'].map((t) => Type.Literal(t)));
export type StatusType = Static<typeof StatusType>;

export const GenericObject = Type.Object({ type: Type.String(), value: Type.String() });

export const Message = Type.Object({
  text: Type.String(),
  code: Type.String(),
  /** The vendor's Message names it `status`; both are sent. */
  type: StatusType,
  status: StatusType,
  objects: Type.Optional(Type.Array(GenericObject)),
});
export type Message = Static<typeof Message>;

const ResponseObject = Type.Object({
  type: Type.String(),
  value: Type.Optional(Type.String()),
  summary: Type.Optional(Type.Integer({ description: 'how many objects match (search) or messages wait (poll)' })),
});
export type ResponseObject = Static<typeof ResponseObject>;

const Status = Type.Object({ code: Type.String(), text: Type.String(), type: StatusType });

export function Envelope<T extends TSchema>(data: T) {
  return Type.Object({
    stid: Type.String({ description: 'server transaction id, also in the X-Domainrobot-STID header' }),
    ctid: Type.Optional(Type.String({ description: 'the X-Domainrobot-Ctid header the client sent' })),
    status: Status,
    object: ResponseObject,
    data: Type.Array(data),
    messages: Type.Array(Message),
  });
}

export const ErrorEnvelope = Envelope(Type.Unknown());
export type EnvelopeBody = Static<typeof ErrorEnvelope>;

/** Response schemas for a route answering `data` items: the envelope on success, the error envelope otherwise. */
export function responses<T extends TSchema>(data: T) {
  return { 200: Envelope(data), '4xx': ErrorEnvelope, '5xx': ErrorEnvelope };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The server transaction id of this request (AutoDNS compatibility routes). */
    autodnsStid: string;
  }
  interface FastifyContextConfig {
    /** The vendor's task code of an AutoDNS compatibility route, for its status codes. */
    autodnsTask?: Task;
  }
}

/** Date, a host tag and a random number, like the vendor's `20261122-app1-12345`. */
export function newStid(now = new Date()): string {
  return `${now.toISOString().slice(0, 10).replaceAll('-', '')}-certkeep-${randomInt(1_000_000_000)}`;
}

export function success<T>(
  request: FastifyRequest,
  task: Task,
  text: string,
  object: ResponseObject,
  data: T[] = [],
  messages: Message[] = [],
): { stid: string; ctid?: string; status: { code: string; text: string; type: StatusType }; object: ResponseObject; data: T[]; messages: Message[] } {
  return { ...transaction(request), status: { code: `S${task}`, text, type: 'SUCCESS' }, object, data, messages };
}

/** An asynchronous task's acceptance: N<task>, type NOTIFY, as the vendor answers before the job's result comes by poll. */
export function accepted<T>(request: FastifyRequest, task: Task, text: string, object: ResponseObject, data: T[]): ReturnType<typeof success<T>> {
  return { ...transaction(request), status: { code: `N${task}`, text, type: 'NOTIFY' }, object, data, messages: [] };
}

export function failure(request: FastifyRequest, task: string, text: string, object: ResponseObject, objects?: { type: string; value: string }[]): EnvelopeBody {
  return {
    ...transaction(request),
    status: { code: `E${task}`, text, type: 'ERROR' },
    object,
    data: [],
    messages: [message(`E${task}`, text, 'ERROR', objects)],
  };
}

export function message(code: string, text: string, type: StatusType, objects?: { type: string; value: string }[]): Message {
  return { text, code, type, status: type, ...(objects && objects.length > 0 ? { objects } : {}) };
}

function transaction(request: FastifyRequest): { stid: string; ctid?: string } {
  const ctid = request.headers['x-domainrobot-ctid'];
  return { stid: request.autodnsStid, ...(typeof ctid === 'string' && ctid !== '' ? { ctid: ctid.slice(0, 200) } : {}) };
}

/** The vendor's timestamps: ISO 8601 with milliseconds and a numeric zone, e.g. 2026-11-22T21:48:39.000+0000. */
export function vendorTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}
