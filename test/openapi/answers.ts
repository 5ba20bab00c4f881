// Every answer the test suite sees, held against the OpenAPI document: an
// onResponse hook on every Fastify app the process builds (Fastify's
// `fastify.initialization` diagnostics channel reaches each one before its
// routes exist) records method, route, status and content type, and
// undocumented() lists those the app's own document does not have.
import diagnostics from 'node:diagnostics_channel';
import type { FastifyInstance } from 'fastify';

export interface Answer {
  method: string;
  /** The route's pattern as Fastify has it, e.g. /api/v1/certificates/:name. */
  route: string;
  status: number;
  /** The media type, without parameters; '' for an answer without a body. */
  contentType: string;
}

// biome-ignore lint/suspicious/noExplicitAny: the OpenAPI document is read as JSON
type Document = any;

/** Records the answers of every app built from now on; `answersOf(app)` gives an app's. */
export function recordAnswers(onAnswer?: (answer: Answer) => void): { answersOf(app: FastifyInstance): Answer[]; stop(): void } {
  const seen = new WeakMap<FastifyInstance, Answer[]>();
  const onInit = (message: unknown) => {
    const { fastify: app } = message as { fastify: FastifyInstance };
    const answers: Answer[] = [];
    seen.set(app, answers);
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url;
      // No route: a URL the app does not serve (its 404 belongs to no path of the document).
      if (!route) return;
      const type = String(reply.getHeader('content-type') ?? '').split(';')[0].trim();
      const answer = { method: request.method, route, status: reply.statusCode, contentType: type };
      answers.push(answer);
      onAnswer?.(answer);
    });
  };
  diagnostics.subscribe('fastify.initialization', onInit);
  return {
    answersOf: (app) => seen.get(app) ?? [],
    stop: () => diagnostics.unsubscribe('fastify.initialization', onInit),
  };
}

/** The OpenAPI path of a Fastify route: /certificates/:name → /certificates/{name}, /dl/* → /dl/{*}. */
export function openApiPath(route: string): string {
  return route.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\*$/, '{*}');
}

/**
 * The answers the document does not list, one line each: a status the
 * operation does not have (nor its NXX range, nor default), or a content type
 * that status does not offer. Routes the document leaves out on purpose
 * (hidden: the portal's pages, the document itself) are not judged.
 */
export function undocumented(document: Document, answers: Answer[]): string[] {
  const problems = new Set<string>();
  for (const answer of answers) {
    const path = document.paths?.[openApiPath(answer.route)];
    if (!path) continue;
    const method = answer.method === 'HEAD' ? 'get' : answer.method.toLowerCase();
    const operation = path[method];
    const where = `${answer.method} ${openApiPath(answer.route)} ${answer.status} ${answer.contentType || '(no body)'}`;
    if (!operation) {
      problems.add(`${where}: the document has no ${method} operation`);
      continue;
    }
    const responses = operation.responses ?? {};
    const response = responses[String(answer.status)] ?? responses[`${String(answer.status)[0]}XX`] ?? responses.default;
    if (!response) {
      problems.add(`${where}: status not documented (it lists ${Object.keys(responses).join(', ')})`);
      continue;
    }
    const types = Object.keys(response.content ?? {}).map((type) => type.split(';')[0].trim());
    if (answer.contentType && !types.includes(answer.contentType)) {
      problems.add(`${where}: content type not documented for ${answer.status} (it lists ${types.join(', ') || 'no body'})`);
    }
  }
  return [...problems].sort();
}
