// Server-sent events as the API's streams answer them (the portal's
// /events/stream, an agent's /agent/stream): the Accept check, the headers that
// keep proxies from buffering, a heartbeat comment every 20 s, and every open
// stream ended when the server closes, since streams never end by themselves.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { problem, sendProblem } from './problems.ts';

const HEARTBEAT_MS = 20_000;

export interface EventStream {
  send(event: string, data: unknown): void;
  end(): void;
  readonly ended: boolean;
}

/** The streams a route group holds open; ended when the app closes. */
export function openStreams(app: FastifyInstance): Set<() => void> {
  const open = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of [...open]) end();
  });
  return open;
}

/** 406 unless the client asks for text/event-stream (then undefined: the answer is sent). */
export function refuseUnlessEventStream(request: FastifyRequest, reply: FastifyReply): FastifyReply | undefined {
  if (String(request.headers.accept ?? '').includes('text/event-stream')) return undefined;
  return sendProblem(reply, problem(406, 'this is an event stream: ask with "Accept: text/event-stream" (EventSource does)'));
}

/** Takes the reply over as a stream; `onEnd` runs once, when the client goes or the server closes. */
export function startEventStream(request: FastifyRequest, reply: FastifyReply, open: Set<() => void>, onEnd: () => void): EventStream {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
    connection: 'keep-alive',
  });
  raw.write('retry: 3000\n: connected\n\n');
  const heartbeat = setInterval(() => raw.write(': ping\n\n'), HEARTBEAT_MS);
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    open.delete(end);
    onEnd();
    if (!raw.writableEnded) raw.end();
  };
  open.add(end);
  request.raw.on('close', end);
  return {
    send: (event, data) => {
      if (!raw.writableEnded) raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    end,
    get ended() {
      return ended;
    },
  };
}
