// GET /api/v1/events/stream: server-sent events — each event of the
// subscription (as in the poll queue) and each step an order takes, as they
// are stored. The portal updates its pages from it; nothing is acknowledged.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Change, LiveFeed } from '../../engine/index.ts';
import { openStreams, refuseUnlessEventStream, startEventStream } from '../event-stream.ts';
import { problemResponses } from '../problems.ts';

export async function streamRoutes(app: FastifyInstance, options: { live: LiveFeed }): Promise<void> {
  const open = openStreams(app);

  app.get(
    '/events/stream',
    {
      config: { scope: 'read', stream: true },
      schema: {
        summary:
          'Server-sent events: `event` (as in GET /events), `order` (an order took a step) and `agent` (an agent\'s targets or token changed) as they happen',
        description:
          'text/event-stream; send "Accept: text/event-stream". Each message has `event: event` with an event ' +
          'document, or `event: order` with {id, certificate, step, goal, status, error, updatedAt}, or `event: agent` with {id}. A comment ' +
          'line comes every 20 s to keep proxies from closing the connection. Reconnect and re-read on error.',
        produces: ['text/event-stream'],
        response: { 200: Type.String({ description: 'the stream, until the client closes it' }), ...problemResponses(406) },
      },
    },
    async (request, reply) => {
      const refused = refuseUnlessEventStream(request, reply);
      if (refused) return refused;
      let unsubscribe = () => {};
      const stream = startEventStream(request, reply, open, () => unsubscribe());
      unsubscribe = options.live.subscribe(request.caller.subscriptionId, (change: Change) => {
        stream.send(change.kind, change.kind === 'event' ? change.event : change.kind === 'order' ? change.order : change.agent);
      });
      if (stream.ended) unsubscribe();
    },
  );
}
