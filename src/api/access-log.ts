// One log line per request, instead of Fastify's two. Answered requests are
// logged at debug (certkeep serve --debug): at info, logging every request
// cost about a fifth of the server's CPU under load (bench:api). Requests
// refused for their key (401, 403) and server errors stay at info, so the
// normal log still shows who knocked with what.
import { type FastifyInstance, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import fp from 'fastify-plugin';
import { principalOf } from '../engine/index.ts';

/** Fastify's logging without its two lines per request; its error and stream-error lines stay. */
export class QuietRequestLogs extends LogController {
  override incomingRequest(): void {}
  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) super.requestCompleted(error, request, reply);
  }
}

/** The URL as logged: a download link's token (/dl/<token>/…) grants the file, the key included, so it is left out. */
export function redactedUrl(url: string): string {
  return url.replace(/^\/dl\/[^/?#]+/, '/dl/(token)');
}

export const accessLogPlugin = fp(async (app: FastifyInstance) => {
  app.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    const status = reply.statusCode;
    const level = status === 401 || status === 403 || status >= 500 ? 'info' : 'debug';
    // Building the line costs more than skipping it; without a logger (logger: false) nothing is written.
    if (!(request.log as { isLevelEnabled?(level: string): boolean }).isLevelEnabled?.(level)) return;
    request.log[level](
      {
        method: request.method,
        url: redactedUrl(request.url),
        statusCode: status,
        responseTimeMs: Math.round(reply.elapsedTime * 10) / 10,
        ip: request.ip,
        ...(request.caller ? { key: principalOf(request.caller) } : {}),
      },
      'request',
    );
  });
});
