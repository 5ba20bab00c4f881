// The RCL API's authentication: `Authorization: Bearer <api key>`, and the
// key's subscription must be the {sid} in the path (its id, or the number
// answered as subscriptionId) — else 401, whether the subscription exists or not. A route that changes something (creates an
// order, validates, finalizes, deletes) needs a write-scoped key: a read key
// gets 403, since it did authenticate.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { authenticateApiKey, type Engine, isSubscription } from '../../../engine/index.ts';
import { sendText } from './errors.ts';

export function rclAuth(ctx: Engine) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const { compat, scope } = request.routeOptions.config ?? {};
    if (compat !== 'rcl') return undefined;
    const key = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
    if (!key) return sendText(reply, 401, 'send the API key as "Authorization: Bearer <api key>"; create one with certkeep admin apikey create');
    const caller = await authenticateApiKey(ctx, key);
    if (!caller) return sendText(reply, 401, 'the API key is not valid (unknown, revoked or mistyped)');
    const sid = (request.params as { sid?: string }).sid ?? '';
    if (!(await isSubscription(ctx, caller.subscriptionId, sid))) return sendText(reply, 401, `the API key does not belong to subscription "${sid}"; use the subscription id of the key`);
    if (scope === 'write' && !caller.scopes.includes('write')) {
      return sendText(reply, 403, 'this API key may only read; creating, validating, finalizing and deleting need a write-scoped key');
    }
    request.caller = caller;
    return undefined;
  };
}
