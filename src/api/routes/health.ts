// Liveness and readiness for load balancers and orchestrators.
import type { FastifyInstance } from 'fastify';
import { databaseStatus, type Engine } from '../../engine/index.ts';
import { problem, sendProblem } from '../problems.ts';

// Probes are never rate-limited: a busy orchestrator must not see a healthy instance fail.
const probe = { config: { rateLimit: false } } as const;

export async function healthRoutes(app: FastifyInstance, options: { engine: Engine }): Promise<void> {
  app.get('/healthz', probe, async () => ({ status: 'ok' }));

  /** Ready when the database answers and its schema is current. */
  app.get('/readyz', probe, async (_request, reply) => {
    try {
      const status = await databaseStatus(options.engine);
      if (!status.current) return sendProblem(reply, problem(503, `database migrations pending: ${status.pending.join(', ')}`));
      return { status: 'ready' };
    } catch (error) {
      return sendProblem(reply, problem(503, `database unreachable: ${(error as Error).message}`));
    }
  });
}
