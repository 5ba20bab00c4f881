// /api/v1/events: the poll queue. A client reads its subscription's
// unacknowledged events and acknowledges each one it has handled.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Engine } from '../../engine/index.ts';
import { ackEvent, DEFAULT_PAGE, MAX_PAGE, nextEvents } from '../../notify/events.ts';
import { problemResponses } from '../problems.ts';

const EventId = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });

export const Event = Type.Object({
  id: EventId,
  type: Type.String({
    description: 'e.g. certificate.issued, certificate.renewed, issuance.failed, renewal.failed',
  }),
  certificate: Type.Union([Type.String(), Type.Null()], {
    description: "the certificate's name; null when the event is about none",
  }),
  payload: Type.Record(Type.String(), Type.Unknown(), { description: 'details that depend on the type' }),
  createdAt: Type.String({ format: 'date-time' }),
});

const EventsQuery = Type.Object({
  after: Type.Integer({
    minimum: 0,
    maximum: Number.MAX_SAFE_INTEGER,
    default: 0,
    description: 'only events with a greater id',
  }),
  limit: Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: DEFAULT_PAGE }),
});

const EventPage = Type.Object({
  events: Type.Array(Event, { description: 'unacknowledged events, oldest first' }),
  remaining: Type.Integer({
    minimum: 0,
    description:
      'unacknowledged events after the last one in this page; 0 means there is nothing more to fetch now',
  }),
});

export async function eventRoutes(app: FastifyInstance, options: { engine: Engine }): Promise<void> {
  const { engine: ctx } = options;

  app.get<{ Querystring: { after: number; limit: number } }>(
    '/events',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'Unacknowledged events of the subscription, oldest first',
        description:
          'Read a page, handle each event and acknowledge it with POST /events/{id}/ack; acknowledged events ' +
          'are not listed again. While `remaining` is above 0, ask again (with `after` set to the last id read, ' +
          'to skip events you have read but not yet acknowledged).',
        querystring: EventsQuery,
        response: { 200: EventPage },
      },
    },
    async (request) => nextEvents(ctx, request.caller.subscriptionId, request.query),
  );

  app.post<{ Params: { id: number } }>(
    '/events/:id/ack',
    {
      config: { scope: 'write' },
      schema: {
        summary: 'Acknowledge an event: it leaves the queue',
        description: 'Acknowledging an event again is not an error.',
        params: Type.Object({ id: EventId }),
        response: { 204: Type.Null({ description: 'done; no body' }), ...problemResponses(404) },
      },
    },
    async (request, reply) => {
      await ackEvent(ctx, request.caller.subscriptionId, request.params.id);
      return reply.code(204).send();
    },
  );
}
