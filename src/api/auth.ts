// API keys on every /api route: `Authorization: Bearer <key>` (or `X-API-Key`).
// A route says which scope it needs in its config; write keys may also read.
//
// Two steps, so that the rate limit (rate-limit.ts) sits between them and can
// count requests by the key that made them:
// - onRequest: who is calling (request.caller), without answering yet;
// - (the rate limit's own onRequest hook, which Fastify runs after this
//   plugin's: route-level hooks follow the context's);
// - preParsing: 401 or 403, before any body is read.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { authenticateApiKey, type Caller, type Engine, type Scope } from '../engine/index.ts';
import { problem, sendProblem } from './problems.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set on routes with a scope once the key is verified; null on public routes and for bad keys. */
    caller: Caller;
  }
  interface FastifyContextConfig {
    /** The scope a route needs; routes without one are public (health checks). */
    scope?: Scope;
    /**
     * Compatibility routes authenticate in their own API's way (the key must match the
     * subscription in the path, Basic auth, their own error format) with their own hook.
     */
    compat?: 'rcl' | 'autodns';
  }
}

export const authPlugin = fp(async (app: FastifyInstance, options: { engine: Engine }) => {
  app.decorateRequest('caller', null as unknown as Caller);

  app.addHook('onRequest', async (request: FastifyRequest) => {
    if (!request.routeOptions.config?.scope || request.routeOptions.config?.compat) return;
    const key = presentedKey(request);
    const caller = key ? await authenticateApiKey(options.engine, key) : undefined;
    if (caller) request.caller = caller;
  });

  app.addHook('preParsing', async (request: FastifyRequest, reply: FastifyReply) => {
    const scope = request.routeOptions.config?.scope;
    if (!scope || request.routeOptions.config?.compat) return;
    const { caller } = request;
    if (!caller) {
      return presentedKey(request)
        ? sendProblem(reply, problem(401, 'the API key is not valid (unknown, revoked or mistyped)'))
        : sendProblem(reply, problem(401, 'send an API key as "Authorization: Bearer <key>"; create one with certkeep admin apikey create'));
    }
    if (!caller.scopes.includes(scope)) return sendProblem(reply, problem(403, `this API key may ${caller.scopes.join(' and ')}; this route needs a ${scope} key`));
  });
});

function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7).trim();
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' ? apiKey.trim() : undefined;
}
