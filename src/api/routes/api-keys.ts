// /api/v1/api-keys: the subscription's API keys (admins only). A new key is
// shown once; only its hash is stored.
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { createApiKey, type Engine, listSubscriptionKeys, revokeApiKey } from '../../engine/index.ts';
import { problemResponses } from '../problems.ts';

const Scope = Type.Union([Type.Literal('read'), Type.Literal('write'), Type.Literal('admin')], {
  description:
    'read; write (also changes certificates, downloads keys); admin (also zones, webhooks, notifications, keys, users)',
});

const ApiKey = Type.Object({
  id: Type.String(),
  prefix: Type.String({ description: 'the public start of the key' }),
  scopes: Type.Array(Type.String()),
  label: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

const NewKey = Type.Object(
  { scope: Scope, label: Type.Optional(Type.String({ maxLength: 100, description: 'what the key is for' })) },
  { additionalProperties: false },
);

const KeyId = Type.Object({ id: Type.String({ pattern: '^key_[0-9a-z]{26}$' }) });

export async function apiKeyRoutes(app: FastifyInstance, options: { engine: Engine }): Promise<void> {
  const { engine: ctx } = options;

  app.get(
    '/api-keys',
    {
      config: { scope: 'admin' },
      schema: {
        summary: "The subscription's API keys, without their secrets",
        response: { 200: Type.Object({ keys: Type.Array(ApiKey) }) },
      },
    },
    async (request) => ({
      keys: await listSubscriptionKeys(ctx, request.caller.subscriptionId),
    }),
  );

  app.post<{ Body: Static<typeof NewKey> }>(
    '/api-keys',
    {
      config: { scope: 'admin' },
      schema: {
        summary: 'A new API key, shown once',
        body: NewKey,
        response: {
          201: Type.Object({
            id: Type.String(),
            apiKey: Type.String({ description: 'shown only in this response' }),
            scopes: Type.Array(Type.String()),
            label: Type.String(),
          }),
        },
      },
    },
    async (request, reply) => {
      const key = await createApiKey(
        ctx,
        request.caller.subscriptionId,
        request.body.scope,
        request.body.label ?? '',
      );
      return reply.code(201).send({ id: key.id, apiKey: key.apiKey, scopes: key.scopes, label: key.label });
    },
  );

  app.delete<{ Params: Static<typeof KeyId> }>(
    '/api-keys/:id',
    {
      config: { scope: 'admin' },
      schema: { summary: 'Revoke a key at once', params: KeyId, response: { 204: Type.Null({ description: 'done; no body' }), ...problemResponses(404) } },
    },
    async (request, reply) => {
      await revokeApiKey(ctx, request.params.id, request.caller.subscriptionId);
      return reply.code(204).send();
    },
  );
}
