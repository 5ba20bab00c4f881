// Who is calling, on every /api route: an API key (`Authorization: Bearer
// <key>` or `X-API-Key`), or a person signed in to the portal (the session
// cookie). A route says which scope it needs in its config; a person's role
// maps onto the same scopes (engine/users.ts), so both have the same rights.
// A change made with the cookie must carry the session's CSRF token in the
// x-csrf-token header, which another site cannot read; API keys need none.
//
// Two steps, so that the rate limit (rate-limit.ts) sits between them and can
// count requests by the key or person that made them:
// - onRequest: who is calling (request.caller), without answering yet;
// - (the rate limit's own onRequest hook, which Fastify runs after this
//   plugin's: route-level hooks follow the context's);
// - preParsing: 401 or 403, before any body is read.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { authenticateApiKey, authenticateSession, type Caller, csrfTokenMatches, type Engine, type Scope, type UserCaller } from '../engine/index.ts';
import { sessionCookie } from './cookies.ts';
import { problem, sendProblem } from './problems.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set on routes with a scope once the key or session is verified; null on public routes and for bad credentials. */
    caller: Caller;
  }
  interface FastifyContextConfig {
    /** The scope a route needs; routes without one are public (health checks, signing in). */
    scope?: Scope;
    /**
     * Compatibility routes authenticate in their own API's way (the key must match the
     * subscription in the path, Basic auth, their own error format) with their own hook.
     */
    compat?: 'rcl' | 'autodns';
    /** Open to a person who signed in with a one-time password and must still replace it. */
    beforePasswordChange?: boolean;
    /** The answer is a stream that stays open (server-sent events), not a document. */
    stream?: boolean;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const NEEDS: Record<Scope, string> = { read: 'a read', write: 'a write', admin: 'an admin' };
const ROLE_FOR: Record<Scope, string> = { read: 'viewer', write: 'operator', admin: 'admin' };

export const authPlugin = fp(async (app: FastifyInstance, options: { engine: Engine }) => {
  app.decorateRequest<Caller | null>('caller', null);

  app.addHook('onRequest', async (request: FastifyRequest) => {
    if (!request.routeOptions.config?.scope || request.routeOptions.config?.compat) return;
    const key = presentedKey(request);
    const cookie = key ? undefined : sessionCookie(request);
    const caller = key
      ? await authenticateApiKey(options.engine, key)
      : cookie
        ? await authenticateSession(options.engine, cookie)
        : undefined;
    if (caller) request.caller = caller;
  });

  app.addHook('preParsing', async (request: FastifyRequest, reply: FastifyReply) => {
    const config = request.routeOptions.config;
    if (!config?.scope || config.compat) return;
    const { caller } = request;
    if (!caller) return sendProblem(reply, problem(401, unauthenticated(request)));
    if ('user' in caller) return checkPerson(request, reply, caller, config.scope);
    if (!caller.scopes.includes(config.scope)) {
      return sendProblem(
        reply,
        problem(
          403,
          `this API key may ${caller.scopes.join(' and ')}; this route needs ${NEEDS[config.scope]} key`,
        ),
      );
    }
  });
});

function checkPerson(request: FastifyRequest, reply: FastifyReply, caller: UserCaller, scope: Scope) {
  const { role } = caller.user;
  if (!caller.scopes.includes(scope)) {
    return sendProblem(
      reply,
      problem(
        403,
        `your role (${role}) does not allow this; it needs the ${ROLE_FOR[scope]} role — ask an admin of your subscription`,
      ),
    );
  }
  if (!SAFE_METHODS.has(request.method) && !csrfTokenMatches(caller, headerText(request, 'x-csrf-token'))) {
    return sendProblem(
      reply,
      problem(
        403,
        'this change came without the CSRF token of your session (header x-csrf-token, from GET /api/v1/session); reload the page and try again',
      ),
    );
  }
  if (caller.user.mustChangePassword && !request.routeOptions.config.beforePasswordChange) {
    return sendProblem(
      reply,
      problem(
        403,
        'you signed in with a one-time password: choose your own first (POST /api/v1/session/password)',
      ),
    );
  }
}

function unauthenticated(request: FastifyRequest): string {
  if (presentedKey(request)) return 'the API key is not valid (unknown, revoked or mistyped)';
  if (sessionCookie(request))
    return 'your session has ended (signed out, expired, or the password changed); sign in again';
  return 'send an API key as "Authorization: Bearer <key>" (create one with certkeep admin apikey create), or sign in to the portal';
}

function presentedKey(request: FastifyRequest): string | undefined {
  // The scheme is case-insensitive (RFC 7235 §2.1), as the compatibility routes read it too.
  const bearer = /^bearer\s+(\S+)\s*$/i.exec(headerText(request, 'authorization') ?? '')?.[1];
  if (bearer) return bearer;
  const apiKey = headerText(request, 'x-api-key');
  return apiKey?.trim();
}

function headerText(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}
