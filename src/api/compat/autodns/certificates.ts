// The certificate tasks: prepare an order from a CSR (synchronous: the answer
// carries the validation data), create, renew and reissue (asynchronous: a job
// the workers finish, reported by GET /poll), info, search, delete, revoke.
// The certificate id in paths is its number (the `id` certkeep answers) or its name.
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  type CertificateRow,
  certificateHistory,
  certificateNumber,
  certificateNumbersIn,
  currentVersionIn,
  deleteCertificate,
  driveOrder,
  type Engine,
  finishClientOrder,
  listCertificates,
  mustFindCertificateByNameOrNumber,
  orderClientCertificate,
  prepareClientOrder,
  revocationReason,
  revokeCertificate,
  stepReached,
} from '../../../engine/index.ts';
import { ConflictError, UsageError } from '../../../errors.ts';
import type { Services } from '../../services.ts';
import { accepted, failure, responses, success, TASKS, vendorTime } from './envelope.ts';
import { Certificate, CertificateData, CertificateParams, ObjectJob, OrderBody, PrepareOrderBody, QueryBody } from './schemas.ts';
import { runQuery } from './search.ts';
import { authentications, certificateData, certificateView, objectJob } from './views.ts';

/** How long _prepareOrder waits for the CA to place the order and hand out its challenges. */
const PREPARE_TIMEOUT_MS = 30_000;
const TAGS = ['AutoDNS compatibility'];
const SearchQuery = Type.Object({
  keys: Type.Optional(Type.Array(Type.String({ maxLength: 50 }), { description: 'accepted; every listed certificate carries its summary fields' })),
  'keys[]': Type.Optional(Type.Array(Type.String({ maxLength: 50 }), { description: 'keys, as the SDKs spell it' })),
});
const RevokeBody = Type.Object(
  { reason: Type.Optional(Type.String({ maxLength: 40, description: 'unspecified, keyCompromise, affiliationChanged, superseded or cessationOfOperation' })) },
  { additionalProperties: true },
);

type ById = { Params: Static<typeof CertificateParams> };

export async function certificateTasks(app: FastifyInstance, services: Services): Promise<void> {
  const { engine: ctx } = services;
  const config = (scope: 'read' | 'write', task: (typeof TASKS)[keyof typeof TASKS]) => ({ compat: 'autodns' as const, scope, autodnsTask: task });
  const find = (request: FastifyRequest<ById>) => mustFindCertificateByNameOrNumber(ctx, request.caller.subscriptionId, request.params.id);

  app.post<{ Body: PrepareOrderBody }>(
    '/certificate/_prepareOrder',
    {
      config: config('write', TASKS.prepareOrder),
      schema: {
        tags: TAGS,
        summary: 'CertificatePrepareOrder: check a CSR, place the order, return the validation data, one entry per name',
        body: PrepareOrderBody,
        response: responses(CertificateData),
      },
    },
    async (request) => {
      const { body } = request;
      const method = authMethod(body.authentication);
      const prepared = await prepareClientOrder(ctx, {
        subscriptionId: request.caller.subscriptionId,
        csrPem: body.plain,
        csrField: 'plain',
        challengeType: method === 'FILE' ? 'http-01' : 'dns-01',
        // The client puts a FILE on its own web server; DNS records certkeep writes itself in its managed zones.
        answers: method === 'FILE' ? 'client' : 'auto',
        issuer: services.engine.issuer,
        name: body.name ?? undefined,
        goal: 'placed',
      });
      const order = await driveOrder(ctx, services.engine.solvers, prepared.order.id, { timeoutMs: PREPARE_TIMEOUT_MS });
      if (order.step === 'invalid' || order.step === 'failed') throw new ConflictError(`the CA refused the order: ${order.error ?? 'no reason given'}`);
      if (!stepReached(order.step, 'placed')) {
        throw new ConflictError(`the CA did not hand out the challenges within ${PREPARE_TIMEOUT_MS / 1000} s; prepare the order again`);
      }
      const data = certificateData(body.plain, prepared.csr, prepared.certificate, body.product ?? undefined, authentications(order, prepared.certificate));
      const text = 'The CSR was checked and the order prepared; place the authentication data, then renew or create the certificate.';
      return success(request, TASKS.prepareOrder, text, { type: 'CertificateData', value: prepared.certificate.name }, [data]);
    },
  );

  // _realtime is the vendor's synchronous create; certkeep's CA answers in its own time, so both start a job.
  for (const url of ['/certificate', '/certificate/_realtime']) {
    app.post<{ Body: OrderBody }>(
      url,
      {
        config: config('write', TASKS.create),
        schema: {
          tags: TAGS,
          summary: url.endsWith('_realtime')
            ? 'CertificateCreateRealtime: as CertificateCreate (asynchronous: a job; GET /poll reports its result)'
            : 'CertificateCreate: order the prepared certificate (asynchronous: a job)',
          body: OrderBody,
          response: responses(ObjectJob),
        },
      },
      async (request) => {
        const { body } = request;
        const method = authMethod(body.authentication);
        const { certificate, order } = await orderClientCertificate(ctx, {
          subscriptionId: request.caller.subscriptionId,
          csrPem: body.csr ?? undefined,
          name: body.name ?? undefined,
          challengeType: method === 'FILE' ? 'http-01' : 'dns-01',
          issuer: services.engine.issuer,
        });
        const text = 'The certificate order was started; GET /poll reports its result.';
        return accepted(request, TASKS.create, text, { type: 'Certificate', value: certificate.name }, [objectJob(order, certificate, 'create')]);
      },
    );
  }

  // Renew and reissue (a new key: the new CSR) are one thing for an ACME CA: a new order for the certificate.
  for (const [url, task, summary] of [
    ['/certificate/:id/_renew', TASKS.renew, 'CertificateRenew: finish the prepared order, or order anew with the CSR given (asynchronous: a job)'],
    ['/certificate/:id', TASKS.reissue, 'CertificateReissue: as CertificateRenew, for the new CSR (asynchronous: a job)'],
  ] as const) {
    app.put<ById & { Body: OrderBody }>(
      url,
      { config: config('write', task), schema: { tags: TAGS, summary, params: CertificateParams, body: OrderBody, response: responses(ObjectJob) } },
      async (request) => {
        authMethod(request.body.authentication);
        const found = await find(request);
        const { certificate, order } = await finishClientOrder(ctx, request.caller.subscriptionId, found.name, request.body.csr ?? undefined);
        const text = 'The certificate renewal was started; GET /poll reports its result.';
        return accepted(request, task, text, { type: 'Certificate', value: certificate.name }, [objectJob(order, certificate, 'renew')]);
      },
    );
  }

  app.get<ById>(
    '/certificate/:id',
    {
      config: config('read', TASKS.info),
      schema: { tags: TAGS, summary: 'CertificateInfo: the certificate, its PEM and dates', params: CertificateParams, response: responses(Certificate) },
    },
    async (request) => {
      const certificate = await find(request);
      const { versions, orders } = await certificateHistory(ctx, certificate);
      const version = currentVersionIn(certificate, versions);
      const order = version?.order_id ? orders.find((o) => o.id === version.order_id) : undefined;
      const history = versions.filter((v) => v.id !== version?.id).map((v) => v.serial);
      const view = certificateView(certificate, await certificateNumber(ctx, certificate.id), version, order?.csr ?? null, history);
      return success(request, TASKS.info, 'The certificate was read successfully.', { type: 'Certificate', value: certificate.name }, [view]);
    },
  );

  // The vendor's SDKs call the search with a trailing slash.
  for (const url of ['/certificate/_search', '/certificate/_search/']) {
    app.post<{ Body: QueryBody }>(
      url,
      {
        config: config('read', TASKS.search),
        schema: {
          tags: TAGS,
          summary: "CertificateList: the subscription's certificates; filters on name/id (EQUAL, NOT_EQUAL, LIKE, ILIKE, NOT_LIKE, IN) and expire/created/updated (EQUAL, NOT_EQUAL, GREATER(_EQUAL), LESS(_EQUAL), IS_NULL, IS_NOT_NULL)",
          hide: url.endsWith('/'),
          querystring: SearchQuery,
          body: QueryBody,
          response: responses(Certificate),
        },
      },
      async (request) => {
        const { subscriptionId } = request.caller;
        // One query for the certificates and their current versions' serials and dates, one for their numbers.
        const [rows, numbers] = await Promise.all([listCertificates(ctx, subscriptionId), certificateNumbersIn(ctx, subscriptionId)]);
        const items = rows.map((row) => ({ name: row.name, id: numbers.get(row.id) ?? 0, created: row.created_at, updated: row.updated_at, expire: row.not_after, row }));
        const { page, total } = runQuery(items, request.body);
        const data = page.map(({ row, id }) => ({
          ...certificateView(row, id, undefined, null),
          ...(row.serial !== null && row.not_after !== null ? { serialNumber: row.serial.toUpperCase(), expire: vendorTime(row.not_after) } : {}),
        }));
        return success(request, TASKS.search, `${total} certificate${total === 1 ? '' : 's'} found.`, { type: 'Certificate', summary: total }, data);
      },
    );
  }

  app.delete<ById>(
    '/certificate/:id',
    {
      config: config('write', TASKS.delete),
      schema: {
        tags: TAGS,
        summary: 'CertificateDelete: remove the certificate from certkeep (it is not revoked: use _revoke)',
        params: CertificateParams,
        response: responses(Type.Unknown()),
      },
    },
    async (request) => {
      const certificate = await find(request);
      await deleteCertificate(ctx, request.caller.subscriptionId, certificate.name);
      return success(request, TASKS.delete, 'The certificate was deleted.', { type: 'Certificate', value: certificate.name });
    },
  );

  // The vendor's specification revokes with DELETE; certkeep's first release took POST. Both revoke at once.
  for (const method of ['POST', 'DELETE'] as const) {
    app.route<ById & { Body: { reason?: string } }>({
      method,
      url: '/certificate/:id/_revoke',
      config: config('write', TASKS.revoke),
      schema: {
        tags: TAGS,
        summary: 'CertificateRevoke: revoke the current version at the CA (synchronous)',
        params: CertificateParams,
        body: RevokeBody,
        response: responses(Certificate),
      },
      handler: async (request) => {
        const { subscriptionId } = request.caller;
        const found = await find(request);
        await revokeCertificate(ctx, subscriptionId, found.name, revocationReason(request.body.reason));
        return success(request, TASKS.revoke, 'The certificate was revoked.', { type: 'Certificate', value: found.name }, [await revokedView(ctx, found)]);
      },
    });
  }

  app.put<ById>(
    '/certificate/:id/_comment',
    {
      config: config('write', TASKS.comment),
      schema: {
        tags: TAGS,
        summary: 'CertificateCommentUpdate: not served — certkeep keeps no comments (501 in the error envelope)',
        params: CertificateParams,
        response: responses(Type.Unknown()),
      },
    },
    async (request, reply) => {
      const certificate = await find(request);
      const text = 'certkeep keeps no comments on certificates: the comment was not stored; keep it in your own records';
      return reply.code(501).send(failure(request, TASKS.comment, text, { type: 'Certificate', value: certificate.name }));
    },
  );
}

async function revokedView(ctx: Engine, found: CertificateRow): Promise<Static<typeof Certificate>> {
  const certificate = await mustFindCertificateByNameOrNumber(ctx, found.subscription_id, found.name);
  const version = currentVersionIn(certificate, (await certificateHistory(ctx, certificate)).versions);
  return certificateView(certificate, await certificateNumber(ctx, certificate.id), version, null);
}

/** The validation method asked for: FILE (HTTP-01) or DNS (DNS-01, the default). */
function authMethod(authentication: PrepareOrderBody['authentication']): 'DNS' | 'FILE' {
  const list = Array.isArray(authentication) ? authentication : authentication ? [authentication] : [];
  const methods = new Set(list.map((a) => (a.method ?? 'DNS').toUpperCase()));
  for (const method of methods) {
    if (method !== 'DNS' && method !== 'FILE') {
      throw new UsageError(`authentication.method: "${method}" cannot be used with an ACME CA; use DNS (a TXT record) or FILE (a file on the web server)`, 'authentication.method');
    }
  }
  if (methods.size > 1) throw new UsageError('authentication.method: ask for one method, DNS or FILE, for all names', 'authentication.method');
  return methods.has('FILE') ? 'FILE' : 'DNS';
}
