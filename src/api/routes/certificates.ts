// /api/v1/certificates: a subscription's certificates (read side so far).
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { EngineContext } from '../../engine/context.ts';
import { findCertificateSummary, listCertificateSummaries } from '../../engine/views.ts';
import { NotFoundError } from '../../errors.ts';

const CertificateSummary = Type.Object({
  name: Type.String(),
  state: Type.String(),
  names: Type.Array(Type.String()),
  serial: Type.Union([Type.String(), Type.Null()]),
  notBefore: Type.Union([Type.String(), Type.Null()]),
  notAfter: Type.Union([Type.String(), Type.Null()]),
  nextRenewalAt: Type.Union([Type.String(), Type.Null()]),
});

const NameParams = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }),
});

export async function certificateRoutes(app: FastifyInstance, options: { ctx: EngineContext }): Promise<void> {
  const { db } = options.ctx.store;

  app.get(
    '/certificates',
    { config: { scope: 'read' }, schema: { response: { 200: Type.Object({ certificates: Type.Array(CertificateSummary) }) } } },
    async (request) => ({ certificates: await listCertificateSummaries(db, request.caller.subscriptionId) }),
  );

  app.get<{ Params: { name: string } }>(
    '/certificates/:name',
    { config: { scope: 'read' }, schema: { params: NameParams, response: { 200: CertificateSummary } } },
    async (request) => {
      const summary = await findCertificateSummary(db, request.caller.subscriptionId, request.params.name);
      if (!summary) throw new NotFoundError(`no certificate named "${request.params.name}" in this subscription`);
      return summary;
    },
  );
}
