// The OpenAPI document (/api/openapi.json), generated from the routes' own
// TypeBox schemas, lists every answer a route gives: its successes from the
// route's schema, and its problem documents (RFC 9457) — those that follow
// from what the route is (it needs a key, it validates input, it reads a
// body), added here as each route is registered, and those its handler
// raises, named in its schema with problemResponses(). The compatibility
// APIs describe their own errors (the vendors' envelope, or text).
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { ProblemSchema, problemResponses } from './problems.ts';

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export const openApiPlugin = fp(async (app: FastifyInstance) => {
  app.addSchema(ProblemSchema);
  app.addHook('onRoute', documentProblems);
  await app.register(swagger, {
    openapi: {
      info: { title: 'certkeep API', version: '1' },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'an API key from certkeep admin apikey create' },
          agentToken: { type: 'http', scheme: 'bearer', description: "a host agent's token (certkeep admin agent create): opens /api/v1/agent/* only" },
          session: { type: 'apiKey', in: 'cookie', name: 'certkeep_session', description: 'the portal session (POST /api/v1/session); changes also need the x-csrf-token header' },
        },
      },
      security: [{ apiKey: [] }, { session: [] }],
    },
    // Shared schemas keep their names in components.schemas (#/components/schemas/Problem).
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, index) => (typeof json.$id === 'string' ? json.$id : `def-${index}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
});

/** The problem answers a native route gives by what it is; its own schema's entries win. */
export function documentProblems(route: RouteOptions): void {
  const config = route.config as { scope?: string; compat?: string; agent?: boolean; rateLimit?: unknown } | undefined;
  const schema: FastifySchema & { hide?: boolean } = route.schema ?? {};
  if (schema.hide || config?.compat) return;
  const statuses = new Set<number>([500]);
  if (config?.rateLimit !== false) statuses.add(429);
  // The key (or session) is checked against the store: a refused key, a scope it lacks, a store that is down.
  if (config?.scope || config?.agent) for (const status of [401, 403, 503]) statuses.add(status);
  if (schema.params || schema.querystring) statuses.add(400);
  // Any body is parsed: malformed JSON, too large, not JSON.
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  if (schema.body || methods.some((method) => BODY_METHODS.has(method))) for (const status of [400, 413, 415]) statuses.add(status);
  route.schema = { ...schema, response: { ...problemResponses(...statuses), ...(schema.response as object | undefined) } };
}
