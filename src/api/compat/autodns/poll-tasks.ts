// PollInfo (GET /poll) and PollConfirm (PUT /poll/{id}): the subscription's
// messages one at a time, oldest first, until confirmed. `object.summary`
// counts the messages waiting, the one shown included.
import type { FastifyInstance } from 'fastify';
import { certificateNumbers, orderById } from '../../../engine/index.ts';
import type { Services } from '../../services.ts';
import { responses, success, TASKS } from './envelope.ts';
import { ackEvent, nextEvents } from '../../../notify/events.ts';
import { MessageParams, PollMessage } from './schemas.ts';
import { pollMessage } from './views.ts';

const TAGS = ['AutoDNS compatibility'];

export async function pollTasks(app: FastifyInstance, services: Services): Promise<void> {
  const { engine: ctx } = services;

  app.get(
    '/poll',
    {
      config: { compat: 'autodns', scope: 'read', autodnsTask: TASKS.pollInfo },
      schema: { tags: TAGS, summary: 'PollInfo: the oldest unconfirmed message (job result or notification)', response: responses(PollMessage) },
    },
    async (request) => {
      const { events, remaining } = await nextEvents(ctx, request.caller.subscriptionId, { limit: 1 });
      const [event] = events;
      if (!event) return success(request, TASKS.pollInfo, 'No notification is waiting.', { type: 'Message', summary: 0 });
      const waiting = remaining + 1;
      const orderId = event.payload.orderId;
      const order = typeof orderId === 'string' ? await orderById(ctx, orderId) : undefined;
      const number = order ? (await certificateNumbers(ctx, [order.certificate_id])).get(order.certificate_id) : undefined;
      const text = 'The notification was polled successfully.';
      return success(request, TASKS.pollInfo, text, { type: 'Message', value: String(event.id), summary: waiting }, [pollMessage(event, order, number)]);
    },
  );

  app.put<{ Params: { id: number } }>(
    '/poll/:id',
    {
      config: { compat: 'autodns', scope: 'write', autodnsTask: TASKS.pollConfirm },
      schema: { tags: TAGS, summary: 'PollConfirm: confirm a message; the next one comes', params: MessageParams, response: responses(PollMessage) },
    },
    async (request) => {
      const { subscriptionId } = request.caller;
      // An id that is not the subscription's is a 404 (ackEvent); confirming twice succeeds.
      await ackEvent(ctx, subscriptionId, request.params.id);
      const { events, remaining } = await nextEvents(ctx, subscriptionId, { limit: 1 });
      const waiting = events.length + remaining;
      return success(request, TASKS.pollConfirm, 'The notification was confirmed successfully.', { type: 'Message', value: String(request.params.id), summary: waiting });
    },
  );
}
