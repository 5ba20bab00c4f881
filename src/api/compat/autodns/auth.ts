// How the vendor's clients authenticate: HTTP Basic with the subscription id
// as user and an API key as password (the key must belong to that
// subscription), or the native API's `Authorization: Bearer <key>`.
// Failures answer in the vendor's envelope: 401, or 403 for a read key on a
// route that writes.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { authenticateApiKey, type Caller, type Engine } from '../../../engine/index.ts';
import { failure } from './envelope.ts';

type Credentials = { key: string; subscriptionId?: string } | { problem: string };

const HOW = 'use HTTP Basic with your subscription id as user and an API key as password, or "Authorization: Bearer <key>"';

export function autodnsAuth(ctx: Engine) {
  return async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const { scope, autodnsTask: task } = request.routeOptions.config ?? {};
    if (!scope || !task) return undefined;
    const credentials = presented(request.headers.authorization);
    const caller = 'key' in credentials ? await callerFor(ctx, credentials) : undefined;
    if (!caller) {
      const text = 'problem' in credentials ? credentials.problem : 'the subscription id and API key do not match a valid key (unknown, revoked, mistyped or of another subscription)';
      return reply
        .code(401)
        .header('www-authenticate', 'Basic realm="certkeep", charset="UTF-8"')
        .send(failure(request, task, text, { type: 'Authentication' }));
    }
    if (!caller.scopes.includes(scope)) {
      return reply.code(403).send(failure(request, task, `this API key may ${caller.scopes.join(' and ')}; this task needs a ${scope} key`, { type: 'Authentication' }));
    }
    request.caller = caller;
    return undefined;
  };
}

async function callerFor(ctx: Engine, credentials: { key: string; subscriptionId?: string }): Promise<Caller | undefined> {
  const caller = await authenticateApiKey(ctx, credentials.key);
  if (!caller) return undefined;
  // Another subscription's valid key is refused exactly like an invalid one.
  if (credentials.subscriptionId !== undefined && caller.subscriptionId !== credentials.subscriptionId) return undefined;
  return caller;
}

function presented(header: string | undefined): Credentials {
  if (!header) return { problem: `no credentials: ${HOW}` };
  const [scheme, value = ''] = header.trim().split(/\s+/, 2);
  if (/^bearer$/i.test(scheme)) return { key: value };
  if (!/^basic$/i.test(scheme)) return { problem: `the "${scheme}" authorization scheme is not supported: ${HOW}` };
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) return { problem: `the Basic credentials are not "user:password": ${HOW}` };
  return { subscriptionId: decoded.slice(0, colon), key: decoded.slice(colon + 1) };
}
