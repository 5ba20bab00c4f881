// /api/v1/orders: an order's state and tokens; validation and finalization for
// clients that answer the challenges themselves. Both answer at once (202) and
// the workers carry the order on; poll GET until its status changes.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { findOrder, orderView, raiseGoal } from '../../engine/index.ts';
import { OrderView } from '../schemas.ts';
import type { Services } from '../services.ts';
import { problemResponses } from '../problems.ts';

const OrderParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }) });

export async function orderRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const { engine: ctx } = services;

  app.get<{ Params: { id: string } }>(
    '/orders/:id',
    { config: { scope: 'read' }, schema: { params: OrderParams, response: { 200: OrderView, ...problemResponses(404) } } },
    async (request) => {
      const { order, certificate } = await findOrder(ctx, request.caller.subscriptionId, { id: request.params.id });
      return orderView(order, certificate);
    },
  );

  for (const [action, goal] of [
    ['validate', 'ready'],
    ['finalize', 'valid'],
  ] as const) {
    app.post<{ Params: { id: string } }>(
      `/orders/:id/${action}`,
      // 409: the order is invalid or failed; it cannot be taken further.
      { config: { scope: 'write' }, schema: { params: OrderParams, response: { 202: OrderView, ...problemResponses(404, 409) } } },
      async (request, reply) => {
        const { order, certificate } = await findOrder(ctx, request.caller.subscriptionId, { id: request.params.id });
        const raised = await raiseGoal(ctx, order, goal);
        return reply.code(202).send(orderView(raised, certificate));
      },
    );
  }
}
