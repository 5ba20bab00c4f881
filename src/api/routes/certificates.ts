// /api/v1/certificates: a subscription's certificates. Creating one, or asking
// for a renewal, opens an order that the workers drive in the background.
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { certificateDeployments, certificateDetails, certificateSummary, changeCertificate, checkTenantCa, deleteCertificate, type Engine, findCertificateWithDeployments, type IssuerSpec, listCertificateSummaries, orderView, REVOCATION_REASONS, revocationReason, revokeCertificate, searchCertificateSummaries, startCertificate, startRenewal, tenantLimitsOf, validateRequest, withEab } from '../../engine/index.ts';
import { NotFoundError, UsageError } from '../../errors.ts';
import { Event } from './events.ts';
import { CertificateNameParams, CertificateSummary, Deployment, OrderView } from '../schemas.ts';
import type { Services } from '../services.ts';
import { problemResponses } from '../problems.ts';

const Text = (maxLength: number) => Type.String({ maxLength });

const CreateCertificate = Type.Object(
  {
    name: Type.Optional(CertificateNameParams.properties.name),
    names: Type.Array(Type.String({ minLength: 1, maxLength: 253 }), { minItems: 1, maxItems: 100 }),
    challengeType: Type.Optional(Type.Union([Type.Literal('http-01'), Type.Literal('dns-01'), Type.Literal('tls-alpn-01')])),
    answeredBy: Type.Optional(
      Type.Union([Type.Literal('auto'), Type.Literal('certkeep'), Type.Literal('client')], {
        description: 'auto (default): certkeep answers HTTP-01, TLS-ALPN-01, and DNS-01 in managed zones; client: you place the answers from the order tokens',
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
    preferredChain: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: "when the CA offers several chains: the one whose top certificate this issuer CN signed (e.g. \"ISRG Root X1\"), else the CA's default",
      }),
    ),
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

const ChangeCertificate = Type.Object(
  {
    pfxPassword: Type.Optional(Type.String({ maxLength: 200, description: "the PFX password, stored sealed; '' removes it (then no PFX is offered)" })),
    csrInfo: Type.Optional({ ...CreateCertificate.properties.csrInfo, description: 'the subject details of the CSRs sent from now on' }),
  },
  { additionalProperties: false },
);

const Started = Type.Object({ certificate: CertificateSummary, order: OrderView });

const SORTS = ['name', '-name', 'expiry', '-expiry', 'state'] as const;

const ListQuery = Type.Object(
  {
    q: Type.Optional(Type.String({ maxLength: 253, description: "part of the certificate's name or of one of its domain names, any case" })),
    state: Type.Optional(Type.Union([Type.Literal('issuing'), Type.Literal('valid'), Type.Literal('failed'), Type.Literal('revoked')])),
    expiresBefore: Type.Optional(Type.String({ maxLength: 40, description: 'ISO 8601 time: only certificates expiring before it' })),
    sort: Type.Optional(Type.Union(SORTS.map((s) => Type.Literal(s)), { description: 'name (default), -name, expiry (soonest first), -expiry or state' })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, description: 'skip this many (with sort, q or offset the page comes with `total`)' })),
    after: Type.Optional(Type.String({ maxLength: 200, description: 'the `next` of the previous page (name order only)' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  },
  { additionalProperties: false },
);

const RevokeBody = Type.Object(
  {
    reason: Type.Optional(
      Type.Union(Object.keys(REVOCATION_REASONS).map((r) => Type.Literal(r)), { description: 'RFC 5280 reason; default unspecified' }),
    ),
  },
  { additionalProperties: false },
);

const Version = Type.Object({
  id: Type.String(),
  serial: Type.String(),
  notBefore: Type.String(),
  notAfter: Type.String(),
  ca: Type.String(),
  renewalWindow: Type.Union([Type.Object({ start: Type.String(), end: Type.String() }), Type.Null()]),
  createdAt: Type.String(),
  current: Type.Boolean(),
});

const Details = Type.Composite([
  CertificateSummary,
  Type.Object({
    keyType: Type.String(),
    profile: Type.Union([Type.String(), Type.Null()]),
    challengeType: Type.String(),
    answeredBy: Type.Union([Type.Literal('certkeep'), Type.Literal('client')]),
    autoRenew: Type.Boolean(),
    renewBefore: Type.Union([Type.String(), Type.Null()]),
    cas: Type.Array(Type.String()),
    hasPfxPassword: Type.Boolean(),
    failures: Type.Integer(),
    lastError: Type.Union([Type.String(), Type.Null()]),
    retryAt: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.String(),
    versions: Type.Array(Version),
    orders: Type.Array(Type.Composite([OrderView, Type.Object({ createdAt: Type.String(), updatedAt: Type.String() })])),
    events: Type.Array(Event),
    deployments: Type.Array(Deployment),
  }),
]);

const CertificateWithDeployments = Type.Composite([CertificateSummary, Type.Object({ deployments: Type.Array(Deployment) })]);

export async function certificateRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const { engine: ctx } = services;

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/certificates',
    {
      config: { scope: 'read' },
      schema: {
        querystring: ListQuery,
        response: {
          200: Type.Object({
            certificates: Type.Array(CertificateSummary),
            next: Type.Union([Type.String(), Type.Null()], { description: 'the `after` of the next page (name order without offset)' }),
            total: Type.Optional(Type.Integer({ description: 'how many certificates match in all' })),
          }),
        },
      },
    },
    async (request) => {
      const { q, state, expiresBefore, sort, offset, after, limit = 100 } = request.query;
      if (q !== undefined || (sort !== undefined && sort !== 'name') || offset !== undefined) {
        if (after !== undefined) throw new UsageError('after: page with offset when searching or sorting', 'after');
        const page = await searchCertificateSummaries(ctx, request.caller.subscriptionId, { search: q, state, expiresBefore, sort, offset, limit });
        return { ...page, next: null };
      }
      const before = expiresBefore === undefined ? undefined : Date.parse(expiresBefore);
      if (before !== undefined && Number.isNaN(before)) throw new UsageError(`expiresBefore: "${expiresBefore}" is not a time like 2026-12-31T00:00:00Z`, 'expiresBefore');
      // One more than asked tells whether there is a next page.
      const rows = await listCertificateSummaries(ctx, request.caller.subscriptionId, { state, expiresBefore: before, after, limit: limit + 1 });
      const page = rows.slice(0, limit);
      return { certificates: page, next: rows.length > limit ? page[page.length - 1].name : null };
    },
  );

  app.get<{ Params: { name: string } }>(
    '/certificates/:name/details',
    {
      config: { scope: 'read' },
      schema: { summary: "Everything a certificate's page shows: settings, versions, orders with their steps and tokens, events", params: CertificateNameParams, response: { 200: Details, ...problemResponses(404) } },
    },
    async (request) => ({
      ...(await certificateDetails(ctx, request.caller.subscriptionId, request.params.name)),
      deployments: await certificateDeployments(ctx, request.caller.subscriptionId, request.params.name),
    }),
  );

  app.post<{ Params: { name: string }; Body: Static<typeof RevokeBody> }>(
    '/certificates/:name/revoke',
    {
      config: { scope: 'write' },
      // The body is optional: without one, the reason is unspecified.
      preValidation: async (request) => {
        request.body ??= {};
      },
      schema: {
        summary: 'Revoke the current version at its CA (RFC 8555 §7.6); 409 when it is revoked already',
        params: CertificateNameParams,
        body: RevokeBody,
        response: {
          200: Type.Object({ name: Type.String(), serial: Type.String(), state: Type.Literal('revoked') }),
          // 409: revoked already, or not issued yet; 502: the CA refused or could not be reached.
          ...problemResponses(404, 409, 502),
        },
      },
    },
    async (request) => {
      const { serial } = await revokeCertificate(ctx, request.caller.subscriptionId, request.params.name, revocationReason(request.body.reason));
      return { name: request.params.name, serial, state: 'revoked' as const };
    },
  );

  app.get<{ Params: { name: string } }>(
    '/certificates/:name',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'A certificate, with where each of its deploy targets stands',
        params: CertificateNameParams,
        response: { 200: CertificateWithDeployments, ...problemResponses(404) },
      },
    },
    async (request) => {
      const certificate = await findCertificateWithDeployments(ctx, request.caller.subscriptionId, request.params.name);
      if (!certificate) throw new NotFoundError(`no certificate named "${request.params.name}" in this subscription`);
      return certificate;
    },
  );

  app.post<{ Body: Static<typeof CreateCertificate> }>(
    '/certificates',
    // 409: the name is taken; 502: the CA refused the account or could not be reached.
    { config: { scope: 'write' }, schema: { body: CreateCertificate, response: { 202: Started, ...problemResponses(409, 502) } } },
    async (request, reply) => {
      const body = request.body;
      const issuers = issuersOf(body, ctx);
      await Promise.all(issuers.map((issuer, index) => checkTenantCa(tenantLimitsOf(ctx), issuer.caUrl, body.issuers ? `issuers.${index}.ca` : 'ca')));
      const valid = validateRequest({
        subscriptionId: request.caller.subscriptionId,
        name: body.name,
        names: body.names,
        challengeType: body.challengeType,
        keyType: body.keyType,
        issuers,
        profile: body.profile,
        csrInfo: body.csrInfo,
        renewalPolicy: { autoRenew: body.autoRenew ?? true, ...(body.renewBefore ? { renewBefore: body.renewBefore } : {}) },
        preferredChain: body.preferredChain,
      });
      const { certificate, order } = await startCertificate(ctx, valid, { answers: body.answeredBy, pfxPassword: body.pfxPassword, solvers: services.engine.solvers });
      return reply
        .code(202)
        .header('location', `/api/v1/orders/${order.id}`)
        .send({ certificate: await certificateSummary(ctx, certificate), order: orderView(order, certificate) });
    },
  );

  app.post<{ Params: { name: string } }>(
    '/certificates/:name/renew',
    { config: { scope: 'write' }, schema: { params: CertificateNameParams, response: { 202: Started, ...problemResponses(404, 409, 502) } } },
    async (request, reply) => {
      const { certificate, order } = await startRenewal(ctx, request.caller.subscriptionId, request.params.name);
      return reply
        .code(202)
        .header('location', `/api/v1/orders/${order.id}`)
        .send({ certificate: await certificateSummary(ctx, certificate), order: orderView(order, certificate) });
    },
  );

  app.patch<{ Params: { name: string }; Body: Static<typeof ChangeCertificate> }>(
    '/certificates/:name',
    {
      config: { scope: 'write' },
      schema: {
        summary: "Change a certificate's PFX password or CSR subject; the versions issued stay as they are",
        params: CertificateNameParams,
        body: ChangeCertificate,
        response: { 200: CertificateWithDeployments, ...problemResponses(404) },
      },
    },
    async (request) => {
      const { subscriptionId } = request.caller;
      if (Object.keys(request.body).length === 0) throw new UsageError('give what to change: pfxPassword, csrInfo or both', 'pfxPassword');
      const changed = await changeCertificate(ctx, subscriptionId, request.params.name, request.body);
      return { ...(await certificateSummary(ctx, changed)), deployments: await certificateDeployments(ctx, subscriptionId, request.params.name) };
    },
  );

  app.delete<{ Params: { name: string } }>(
    '/certificates/:name',
    {
      config: { scope: 'write' },
      schema: { summary: 'Delete a certificate with its versions and orders (it is not revoked)', params: CertificateNameParams, response: { 204: Type.Null({ description: 'done; no body' }), ...problemResponses(404) } },
    },
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
