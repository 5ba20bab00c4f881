// GET /api/v1/events/stream: server-sent events — each event of the
// subscription (as in the poll queue) and each step an order takes, as they
// are stored. The portal updates its pages from it; nothing is acknowledged.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Change, LiveFeed } from '../../engine/index.ts';
import { problem, problemResponses, sendProblem } from '../problems.ts';

const HEARTBEAT_MS = 20_000;

export async function streamRoutes(app: FastifyInstance, options: { live: LiveFeed }): Promise<void> {
  const open = new Set<() => void>();
  // Streams never end by themselves: close them so that the server can stop.
  app.addHook('preClose', async () => {
    for (const end of [...open]) end();
  });

  app.get(
    '/events/stream',
    {
      config: { scope: 'read', stream: true },
      schema: {
        summary:
          'Server-sent events: `event` (as in GET /events) and `order` (an order took a step) as they happen',
        description:
          'text/event-stream; send "Accept: text/event-stream". Each message has `event: event` with an event ' +
          'document, or `event: order` with {id, certificate, step, goal, status, error, updatedAt}. A comment ' +
          'line comes every 20 s to keep proxies from closing the connection. Reconnect and re-read on error.',
        produces: ['text/event-stream'],
        response: { 200: Type.String({ description: 'the stream, until the client closes it' }), ...problemResponses(406) },
      },
    },
    async (request, reply) => {
      if (!String(request.headers.accept ?? '').includes('text/event-stream')) {
        return sendProblem(
          reply,
          problem(406, 'this is an event stream: ask with "Accept: text/event-stream" (EventSource does)'),
        );
      }
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
        connection: 'keep-alive',
      });
      raw.write('retry: 3000\n: connected\n\n');
      const send = (change: Change) => {
        if (change.kind === 'agent') return; // for the agents' own streams (agent-access.ts)
        const body = change.kind === 'event' ? change.event : change.order;
        raw.write(`event: ${change.kind}\ndata: ${JSON.stringify(body)}\n\n`);
      };
      const unsubscribe = options.live.subscribe(request.caller.subscriptionId, send);
      const heartbeat = setInterval(() => raw.write(': ping\n\n'), HEARTBEAT_MS);
      const end = () => {
        clearInterval(heartbeat);
        unsubscribe();
        open.delete(end);
        if (!raw.writableEnded) raw.end();
      };
      open.add(end);
      request.raw.on('close', end);
    },
  );
}
