// The registrar-style SSL API of the seeds (docs: /work/shared/compat/autodns-ssl.md,
// decisions: ./README.md), served under /autodns/v1 over the engine's use cases.
// An encapsulated plugin: its auth, JSON parsing, error and not-found handlers
// apply to its routes only, so the native routes keep theirs.
import type { FastifyBodyParser, FastifyInstance, FastifyRequest } from 'fastify';
import type { Services } from '../../services.ts';
import { autodnsAuth } from './auth.ts';
import { certificateTasks } from './certificates.ts';
import { newStid } from './envelope.ts';
import { autodnsErrorHandler, autodnsNotFound } from './errors.ts';
import { pollTasks } from './poll-tasks.ts';

export async function autodnsRoutes(app: FastifyInstance, options: Services): Promise<void> {
  // Only the services go on to the task plugins: not this plugin's prefix.
  const services: Services = { engine: options.engine };
  app.decorateRequest('autodnsStid', '');
  app.addHook('onRequest', async (request, reply) => {
    request.autodnsStid = newStid();
    reply.header('x-domainrobot-stid', request.autodnsStid);
  });
  app.addHook('onRequest', autodnsAuth(services.engine));
  // The vendor's Node SDK sends "Content-Type: application/json" on every request, with or without a body —
  // except a PUT without data (PollConfirm), where its HTTP library's default, x-www-form-urlencoded, wins.
  // So an empty body is no body whatever its type; a body that is not JSON is refused (415).
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, emptyOrJson(app.getDefaultJsonParser('error', 'error')));
  app.addContentTypeParser('*', { parseAs: 'buffer' }, emptyOnly);
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined && request.method !== 'GET') request.body = {};
  });
  app.setErrorHandler(autodnsErrorHandler);
  app.setNotFoundHandler(autodnsNotFound);
  await app.register(certificateTasks, services);
  await app.register(pollTasks, services);
}

function emptyOnly(_request: FastifyRequest, body: Buffer, done: (error: Error | null, body?: unknown) => void): void {
  if (body.length === 0) {
    done(null, undefined);
    return;
  }
  done(Object.assign(new Error('the body is not JSON'), { statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' }));
}

function emptyOrJson(json: FastifyBodyParser<string>): FastifyBodyParser<string> {
  return function parse(this: FastifyInstance, request, body, done) {
    if (body.trim() === '') return done(null, undefined);
    return json.call(this, request, body, done);
  };
}
