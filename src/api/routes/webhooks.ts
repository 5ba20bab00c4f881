// /api/v1/webhooks: URLs told of the subscription's events as they happen,
// each POST signed with the webhook's secret (shown once, at creation).
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Engine } from '../../engine/index.ts';
import { EVENT_TYPES } from '../../notify/events.ts';
import {
  createWebhook,
  deleteWebhook,
  listDeliveries,
  listWebhooks,
  MAX_URL_LENGTH,
  MAX_WEBHOOKS,
} from '../../notify/webhooks.ts';
import { problemResponses } from '../problems.ts';

const SIGNING =
  'Each POST carries the event as JSON ({id, type, createdAt, certificate, payload}) and the headers ' +
  'x-certkeep-event (its type), x-certkeep-delivery (the delivery id, the same on every retry) and ' +
  'x-certkeep-signature: t=<unix seconds>,v1=<hex HMAC-SHA256 keyed with the secret of "<t>.<raw body>">. ' +
  'To verify, compute that HMAC over the raw body, compare it with v1 in constant time, and refuse a t more ' +
  'than a few minutes from your clock. Answer 2xx to accept; anything else, a redirect or no answer within ' +
  '10 s is retried with exponential backoff (by default 10 s doubling to 1 h, with jitter) and given up after ' +
  '12 attempts. Deliveries may arrive out of order and, rarely, more than once: use the delivery id to ignore repeats.';

const WebhookId = Type.String({ pattern: '^whk_[0-9a-z]{26}$' });

const Webhook = Type.Object({
  id: WebhookId,
  url: Type.String(),
  eventTypes: Type.Array(Type.String(), { description: '[] means every type' }),
  createdAt: Type.String({ format: 'date-time' }),
});

const CreatedWebhook = Type.Composite([
  Webhook,
  Type.Object({ secret: Type.String({ description: 'signs the POSTs; returned only in this response' }) }),
]);

const CreateWebhook = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: MAX_URL_LENGTH, description: 'http:// or https://' }),
    eventTypes: Type.Optional(
      Type.Array(Type.String({ enum: [...EVENT_TYPES] }), {
        maxItems: EVENT_TYPES.length,
        uniqueItems: true,
        description: 'the types to send; leave out (or []) for every type',
      }),
    ),
    secret: Type.Optional(
      Type.String({
        minLength: 16,
        maxLength: 256,
        description: 'leave out to have one generated (32 random bytes, base64url)',
      }),
    ),
  },
  { additionalProperties: false },
);

const Delivery = Type.Object({
  id: Type.Integer(),
  eventId: Type.Integer(),
  eventType: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]),
  attempts: Type.Integer(),
  lastStatusCode: Type.Union([Type.Integer(), Type.Null()], { description: 'null when no HTTP answer came' }),
  lastError: Type.Union([Type.String(), Type.Null()]),
  nextAttemptAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  deliveredAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
});

const DeliveriesQuery = Type.Object({
  before: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: Number.MAX_SAFE_INTEGER,
      description: 'only deliveries with a smaller id',
    }),
  ),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
});

export async function webhookRoutes(app: FastifyInstance, options: { engine: Engine }): Promise<void> {
  const { engine: ctx } = options;

  app.post<{ Body: { url: string; eventTypes?: string[]; secret?: string } }>(
    '/webhooks',
    {
      config: { scope: 'admin' },
      schema: {
        summary: `Register a webhook (at most ${MAX_WEBHOOKS} per subscription)`,
        description: `Events created from now on are POSTed to the URL. ${SIGNING}`,
        body: CreateWebhook,
        response: { 201: CreatedWebhook },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await createWebhook(ctx, request.caller.subscriptionId, request.body)),
  );

  app.get(
    '/webhooks',
    {
      config: { scope: 'read' },
      schema: {
        summary: "The subscription's webhooks (without their secrets)",
        response: { 200: Type.Object({ webhooks: Type.Array(Webhook) }) },
      },
    },
    async (request) => ({ webhooks: await listWebhooks(ctx, request.caller.subscriptionId) }),
  );

  app.delete<{ Params: { id: string } }>(
    '/webhooks/:id',
    {
      config: { scope: 'admin' },
      schema: {
        summary: 'Remove a webhook and its delivery log',
        params: Type.Object({ id: WebhookId }),
        response: { 204: Type.Null({ description: 'done; no body' }), ...problemResponses(404) },
      },
    },
    async (request, reply) => {
      await deleteWebhook(ctx, request.caller.subscriptionId, request.params.id);
      return reply.code(204).send();
    },
  );

  app.get<{ Params: { id: string }; Querystring: { before?: number; limit: number } }>(
    '/webhooks/:id/deliveries',
    {
      config: { scope: 'read' },
      schema: {
        summary: "A webhook's delivery log, newest first",
        description: 'Page back with `before` set to the smallest id read.',
        params: Type.Object({ id: WebhookId }),
        querystring: DeliveriesQuery,
        response: { 200: Type.Object({ deliveries: Type.Array(Delivery) }), ...problemResponses(404) },
      },
    },
    async (request) => ({
      deliveries: await listDeliveries(ctx, request.caller.subscriptionId, request.params.id, request.query),
    }),
  );
}
