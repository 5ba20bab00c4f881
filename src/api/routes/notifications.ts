// /api/v1/notifications: where the subscription's notification mail goes.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Engine } from '../../engine/index.ts';
import {
  MAX_RECIPIENTS,
  notificationRecipients,
  setNotificationRecipients,
} from '../../notify/recipients.ts';

const Recipients = Type.Object(
  {
    emails: Type.Array(Type.String({ minLength: 1, maxLength: 254, examples: ['ops@example.com'] }), {
      maxItems: MAX_RECIPIENTS,
      description: 'who gets a message when a certificate needs attention; [] for no mail',
    }),
  },
  { additionalProperties: false },
);

export async function notificationRoutes(
  app: FastifyInstance,
  options: { engine: Engine },
): Promise<void> {
  const { engine: ctx } = options;

  app.get(
    '/notifications',
    { config: { scope: 'read' }, schema: { response: { 200: Recipients } } },
    async (request) => ({
      emails: await notificationRecipients(ctx, request.caller.subscriptionId),
    }),
  );

  app.put<{ Body: { emails: string[] } }>(
    '/notifications',
    { config: { scope: 'admin' }, schema: { body: Recipients, response: { 200: Recipients } } },
    async (request) => ({
      emails: await setNotificationRecipients(
        ctx,
        request.caller.subscriptionId,
        request.body.emails,
        'emails',
      ),
    }),
  );
}
