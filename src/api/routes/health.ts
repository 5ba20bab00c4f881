// Liveness and readiness for load balancers and orchestrators.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { databaseStatus, type Engine } from '../../engine/index.ts';
import { problem, problemResponses, sendProblem } from '../problems.ts';

// Probes are never rate-limited: a busy orchestrator must not see a healthy instance fail.
const probe = { rateLimit: false } as const;

export async function healthRoutes(app: FastifyInstance, options: { engine: Engine }): Promise<void> {
  app.get(
    '/healthz',
    { config: probe, schema: { summary: 'Liveness: the process answers', security: [], response: { 200: Type.Object({ status: Type.Literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );

  /** Ready when the database answers and its schema is current. */
  app.get(
    '/readyz',
    {
      config: probe,
      schema: {
        summary: 'Readiness: the database answers and its migrations are current',
        security: [],
        response: { 200: Type.Object({ status: Type.Literal('ready') }), ...problemResponses(503) },
      },
    },
    async (_request, reply) => {
      try {
        const status = await databaseStatus(options.engine);
        if (!status.current) return sendProblem(reply, problem(503, `database migrations pending: ${status.pending.join(', ')}`));
        return { status: 'ready' as const };
      } catch (error) {
        return sendProblem(reply, problem(503, `database unreachable: ${(error as Error).message}`));
      }
    },
  );
}
