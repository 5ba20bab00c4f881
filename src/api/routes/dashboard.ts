// /api/v1/dashboard: the subscription at a glance, computed by the database.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { dashboard, type Engine, HISTOGRAM_DAYS } from '../../engine/index.ts';
import { CertificateSummary } from '../schemas.ts';
import { Event } from './events.ts';

const Time = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);

const Dashboard = Type.Object({
  counts: Type.Object({
    total: Type.Integer(),
    byState: Type.Record(Type.String(), Type.Integer(), { description: 'issuing, valid, failed, revoked' }),
  }),
  expiring: Type.Object({
    withinDays: Type.Integer(),
    count: Type.Integer({ description: 'issued certificates expiring within withinDays' }),
    expired: Type.Integer({ description: 'issued certificates past their expiry (not revoked)' }),
    soonest: Type.Array(CertificateSummary),
  }),
  failing: Type.Object({
    count: Type.Integer({ description: 'certificates whose last issuance or renewal failed' }),
    certificates: Type.Array(
      Type.Object({
        name: Type.String(),
        state: Type.String(),
        failures: Type.Integer(),
        lastError: Type.Union([Type.String(), Type.Null()]),
        retryAt: Time,
        notAfter: Time,
      }),
    ),
  }),
  expiryHistogram: Type.Array(Type.Integer(), {
    description: `issued certificates expiring on each of the next ${HISTOGRAM_DAYS} days (index 0: the next 24 hours)`,
  }),
  recentEvents: Type.Array(Event),
});

export async function dashboardRoutes(app: FastifyInstance, options: { engine: Engine }): Promise<void> {
  app.get(
    '/dashboard',
    {
      config: { scope: 'read' },
      schema: {
        summary:
          'Certificates by state, expiring soon, failing renewals, expiries over 90 days, recent events',
        response: { 200: Dashboard },
      },
    },
    async (request) => dashboard(options.engine, request.caller.subscriptionId),
  );
}
