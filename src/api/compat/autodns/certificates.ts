// The certificate tasks: prepare an order from a CSR (synchronous: the answer
// carries the validation data), create and renew (asynchronous: a job the
// workers finish, reported by GET /poll), info, search, delete, revoke.
// The certificate id in paths is certkeep's certificate name.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { certificateHistory, currentVersionIn, deleteCertificate, driveOrder, finishClientOrder, listCertificates, mustFindCertificate, orderClientCertificate, orderView, prepareClientOrder, revocationReason, revokeCertificate, stepReached } from '../../../engine/index.ts';
import { ConflictError, UsageError } from '../../../errors.ts';
import type { Services } from '../../services.ts';
import { responses, success, TASKS, vendorTime } from './envelope.ts';
import {
  Certificate,
  CertificateData,
  CertificateParams,
  ObjectJob,
  OrderBody,
  PrepareOrderBody,
  QueryBody,
} from './schemas.ts';
import { runQuery } from './search.ts';
import { authentications, certificateData, certificateView, objectJob } from './views.ts';

/** How long _prepareOrder waits for the CA to place the order and hand out its challenges. */
const PREPARE_TIMEOUT_MS = 30_000;
const TAGS = ['AutoDNS compatibility'];
const SearchQuery = Type.Object({ keys: Type.Optional(Type.Array(Type.String({ maxLength: 50 }), { description: 'accepted; every listed certificate carries its summary fields' })) });
const RevokeBody = Type.Object(
  { reason: Type.Optional(Type.String({ maxLength: 40, description: 'unspecified, keyCompromise, affiliationChanged, superseded or cessationOfOperation' })) },
  { additionalProperties: true },
);

export async function certificateTasks(app: FastifyInstance, services: Services): Promise<void> {
  const { engine: ctx } = services;

  app.post<{ Body: PrepareOrderBody }>(
    '/certificate/_prepareOrder',
    {
      config: { compat: 'autodns', scope: 'write', autodnsTask: TASKS.prepareOrder },
      schema: {
        tags: TAGS,
        summary: 'CertificatePrepareOrder: check a CSR, place the order, return the validation data per name',
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
      const auth = authentications(orderView(order, prepared.certificate));
      const data = certificateData(body.plain, prepared.csr, prepared.certificate, body.product ?? undefined, auth);
      const text = 'The CSR was checked and the order prepared; place the authentication data, then renew or create the certificate.';
      return success(request, TASKS.prepareOrder, text, { type: 'CertificateData', value: prepared.certificate.name }, [data]);
    },
  );

  app.post<{ Body: OrderBody }>(
    '/certificate',
    {
      config: { compat: 'autodns', scope: 'write', autodnsTask: TASKS.create },
      schema: { tags: TAGS, summary: 'CertificateCreate: order the prepared certificate (asynchronous: a job)', body: OrderBody, response: responses(ObjectJob) },
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
      return success(request, TASKS.create, text, { type: 'Certificate', value: certificate.name }, [objectJob(order, certificate, 'create')]);
    },
  );

  app.put<{ Params: { id: string }; Body: OrderBody }>(
    '/certificate/:id/_renew',
    {
      config: { compat: 'autodns', scope: 'write', autodnsTask: TASKS.renew },
      schema: {
        tags: TAGS,
        summary: 'CertificateRenew: finish the prepared order, or order anew with the CSR given (asynchronous: a job)',
        params: CertificateParams,
        body: OrderBody,
        response: responses(ObjectJob),
      },
    },
    async (request) => {
      authMethod(request.body.authentication);
      const { certificate, order } = await finishClientOrder(ctx, request.caller.subscriptionId, request.params.id, request.body.csr ?? undefined);
      const text = 'The certificate renewal was started; GET /poll reports its result.';
      return success(request, TASKS.renew, text, { type: 'Certificate', value: certificate.name }, [objectJob(order, certificate, 'renew')]);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/certificate/:id',
    {
      config: { compat: 'autodns', scope: 'read', autodnsTask: TASKS.info },
      schema: { tags: TAGS, summary: 'CertificateInfo: the certificate, its PEM and dates', params: CertificateParams, response: responses(Certificate) },
    },
    async (request) => {
      const certificate = await mustFindCertificate(ctx, request.caller.subscriptionId, request.params.id);
      const { versions, orders } = await certificateHistory(ctx, certificate);
      const version = currentVersionIn(certificate, versions);
      const order = version?.order_id ? orders.find((o) => o.id === version.order_id) : undefined;
      const history = versions.filter((v) => v.id !== version?.id).map((v) => v.serial);
      const view = certificateView(certificate, version, order?.csr ?? null, history);
      return success(request, TASKS.info, 'The certificate was read successfully.', { type: 'Certificate', value: certificate.name }, [view]);
    },
  );

  // The vendor's SDKs call the search with a trailing slash.
  for (const url of ['/certificate/_search', '/certificate/_search/']) {
    app.post<{ Body: QueryBody }>(
      url,
      {
        config: { compat: 'autodns', scope: 'read', autodnsTask: TASKS.search },
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
        // One query for the certificates and their current versions' serials and dates.
        const rows = await listCertificates(ctx, request.caller.subscriptionId);
        const items = rows.map((row) => ({ name: row.name, created: row.created_at, updated: row.updated_at, expire: row.not_after, row }));
        const { page, total } = runQuery(items, request.body);
        const data = page.map(({ row }) => ({
          ...certificateView(row, undefined, null),
          ...(row.serial !== null && row.not_after !== null ? { serialNumber: row.serial.toUpperCase(), expire: vendorTime(row.not_after) } : {}),
        }));
        return success(request, TASKS.search, `${total} certificate${total === 1 ? '' : 's'} found.`, { type: 'Certificate', summary: total }, data);
      },
    );
  }

  app.delete<{ Params: { id: string } }>(
    '/certificate/:id',
    {
      config: { compat: 'autodns', scope: 'write', autodnsTask: TASKS.delete },
      schema: {
        tags: TAGS,
        summary: 'CertificateDelete: remove the certificate from certkeep (it is not revoked: use _revoke)',
        params: CertificateParams,
        response: responses(Type.Unknown()),
      },
    },
    async (request) => {
      await deleteCertificate(ctx, request.caller.subscriptionId, request.params.id);
      return success(request, TASKS.delete, 'The certificate was deleted.', { type: 'Certificate', value: request.params.id });
    },
  );

  app.post<{ Params: { id: string }; Body: { reason?: string } }>(
    '/certificate/:id/_revoke',
    {
      config: { compat: 'autodns', scope: 'write', autodnsTask: TASKS.revoke },
      schema: {
        tags: TAGS,
        summary: 'Revoke the current version at the CA (synchronous)',
        params: CertificateParams,
        body: RevokeBody,
        response: responses(Certificate),
      },
    },
    async (request) => {
      const { subscriptionId } = request.caller;
      await revokeCertificate(ctx, subscriptionId, request.params.id, revocationReason(request.body.reason));
      const certificate = await mustFindCertificate(ctx, subscriptionId, request.params.id);
      const version = currentVersionIn(certificate, (await certificateHistory(ctx, certificate)).versions);
      const view = certificateView(certificate, version, null);
      return success(request, TASKS.revoke, 'The certificate was revoked.', { type: 'Certificate', value: certificate.name }, [view]);
    },
  );
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
