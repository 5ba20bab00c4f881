// /api/v1/certificates: a subscription's certificates. Creating one, or asking
// for a renewal, opens an order that the workers drive in the background.
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { certificateSummary, deleteCertificate, type Engine, findCertificateSummary, type IssuerSpec, listCertificateSummaries, orderView, startCertificate, startRenewal, validateRequest, withEab } from '../../engine/index.ts';
import { NotFoundError, UsageError } from '../../errors.ts';
import { CertificateNameParams, CertificateSummary, OrderView } from '../schemas.ts';
import type { Services } from '../services.ts';

const Text = (maxLength: number) => Type.String({ maxLength });

const CreateCertificate = Type.Object(
  {
    name: Type.Optional(CertificateNameParams.properties.name),
    names: Type.Array(Type.String({ minLength: 1, maxLength: 253 }), { minItems: 1, maxItems: 100 }),
    challengeType: Type.Optional(Type.Union([Type.Literal('http-01'), Type.Literal('dns-01'), Type.Literal('tls-alpn-01')])),
    answeredBy: Type.Optional(
      Type.Union([Type.Literal('auto'), Type.Literal('certkeep'), Type.Literal('client')], {
        description: 'auto (default): certkeep answers HTTP-01, and DNS-01 in managed zones; client: you place the answers from the order tokens',
      }),
    ),
    keyType: Type.Optional(Type.String({ maxLength: 20 })),
    ca: Type.Optional(Type.String({ format: 'uri', maxLength: 2000, description: "an ACME directory URL; default: the server's --ca" })),
    issuers: Type.Optional(
      Type.Array(
        Type.Object(
          {
            ca: Type.String({ format: 'uri', maxLength: 2000 }),
            email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
            eabKid: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            eabHmacKey: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_-]+={0,2}$' })),
          },
          { additionalProperties: false },
        ),
        {
          minItems: 1,
          maxItems: 5,
          description: 'CAs in order of preference, instead of `ca`: renewal falls back to the next after repeated failures. EAB keys are stored sealed and never returned.',
        },
      ),
    ),
    email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
    profile: Type.Optional(Text(100)),
    autoRenew: Type.Optional(Type.Boolean()),
    renewBefore: Type.Optional(Type.String({ maxLength: 20, description: 'e.g. 30d, 12h or 33%' })),
    pfxPassword: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    csrInfo: Type.Optional(
      Type.Object(
        {
          organization: Type.Optional(Text(200)),
          organizationalUnit: Type.Optional(Text(200)),
          country: Type.Optional(Text(10)),
          state: Type.Optional(Text(200)),
          locality: Type.Optional(Text(200)),
          email: Type.Optional(Text(300)),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const Started = Type.Object({ certificate: CertificateSummary, order: OrderView });

const ListQuery = Type.Object(
  {
    state: Type.Optional(Type.Union([Type.Literal('issuing'), Type.Literal('valid'), Type.Literal('failed'), Type.Literal('revoked')])),
    expiresBefore: Type.Optional(Type.String({ maxLength: 40, description: 'ISO 8601 time: only certificates expiring before it' })),
    after: Type.Optional(Type.String({ maxLength: 200, description: 'the `next` of the previous page' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  },
  { additionalProperties: false },
);

export async function certificateRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const { engine: ctx } = services;

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/certificates',
    {
      config: { scope: 'read' },
      schema: { querystring: ListQuery, response: { 200: Type.Object({ certificates: Type.Array(CertificateSummary), next: Type.Union([Type.String(), Type.Null()]) }) } },
    },
    async (request) => {
      const { state, expiresBefore, after, limit = 100 } = request.query;
      const before = expiresBefore === undefined ? undefined : Date.parse(expiresBefore);
      if (before !== undefined && Number.isNaN(before)) throw new UsageError(`expiresBefore: "${expiresBefore}" is not a time like 2026-12-31T00:00:00Z`, 'expiresBefore');
      // One more than asked tells whether there is a next page.
      const rows = await listCertificateSummaries(ctx, request.caller.subscriptionId, { state, expiresBefore: before, after, limit: limit + 1 });
      const page = rows.slice(0, limit);
      return { certificates: page, next: rows.length > limit ? page[page.length - 1].name : null };
    },
  );

  app.get<{ Params: { name: string } }>(
    '/certificates/:name',
    { config: { scope: 'read' }, schema: { params: CertificateNameParams, response: { 200: CertificateSummary } } },
    async (request) => {
      const summary = await findCertificateSummary(ctx, request.caller.subscriptionId, request.params.name);
      if (!summary) throw new NotFoundError(`no certificate named "${request.params.name}" in this subscription`);
      return summary;
    },
  );

  app.post<{ Body: Static<typeof CreateCertificate> }>(
    '/certificates',
    { config: { scope: 'write' }, schema: { body: CreateCertificate, response: { 202: Started } } },
    async (request, reply) => {
      const body = request.body;
      const valid = validateRequest({
        subscriptionId: request.caller.subscriptionId,
        name: body.name,
        names: body.names,
        challengeType: body.challengeType,
        keyType: body.keyType,
        issuers: issuersOf(body, ctx),
        profile: body.profile,
        csrInfo: body.csrInfo,
        renewalPolicy: { autoRenew: body.autoRenew ?? true, ...(body.renewBefore ? { renewBefore: body.renewBefore } : {}) },
      });
      const { certificate, order } = await startCertificate(ctx, valid, { answers: body.answeredBy, pfxPassword: body.pfxPassword });
      return reply
        .code(202)
        .header('location', `/api/v1/orders/${order.id}`)
        .send({ certificate: await certificateSummary(ctx, certificate), order: orderView(order, certificate) });
    },
  );

  app.post<{ Params: { name: string } }>(
    '/certificates/:name/renew',
    { config: { scope: 'write' }, schema: { params: CertificateNameParams, response: { 202: Started } } },
    async (request, reply) => {
      const { certificate, order } = await startRenewal(ctx, request.caller.subscriptionId, request.params.name);
      return reply
        .code(202)
        .header('location', `/api/v1/orders/${order.id}`)
        .send({ certificate: await certificateSummary(ctx, certificate), order: orderView(order, certificate) });
    },
  );

  app.delete<{ Params: { name: string } }>(
    '/certificates/:name',
    { config: { scope: 'write' }, schema: { params: CertificateNameParams } },
    async (request, reply) => {
      await deleteCertificate(ctx, request.caller.subscriptionId, request.params.name);
      return reply.code(204).send();
    },
  );
}

/** The request's CAs: `issuers`, or `ca`, or the server's default; EAB keys sealed for later. */
function issuersOf(body: Static<typeof CreateCertificate>, engine: Engine): IssuerSpec[] {
  if (body.issuers && body.ca) throw new UsageError('issuers: give either ca or issuers, not both', 'issuers');
  if (!body.issuers) return [body.ca ? { caUrl: body.ca, email: body.email } : { ...engine.issuer, ...(body.email ? { email: body.email } : {}) }];
  const seal = (plain: string, aad: string) => engine.store.secrets.encrypt(plain, aad);
  return body.issuers.map((issuer, index) => {
    if (Boolean(issuer.eabKid) !== Boolean(issuer.eabHmacKey)) {
      throw new UsageError(`issuers[${index}]: eabKid and eabHmacKey go together`, `issuers.${index}.eabKid`);
    }
    const eab = issuer.eabKid && issuer.eabHmacKey ? { kid: issuer.eabKid, hmacKey: issuer.eabHmacKey } : undefined;
    return withEab({ caUrl: issuer.ca, email: issuer.email ?? body.email }, eab, seal);
  });
}
