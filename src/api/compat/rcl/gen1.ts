// Generation 1 (`/production/ssl/core/v1`): orders by hostName, named by their
// orderUri — create, get, validate, finalize (with the CSR details and the PFX
// password) — and certificates by name: get, get/all, delete.
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { changeCertificate, deleteCertificate, listCertificateSummaries, mustFindCertificate } from '../../../engine/index.ts';
import type { Services } from '../../services.ts';
import { certificateOf, finalize, openOrder, orderOf, validate } from './flows.ts';
import {
  Certificate,
  CertificateInfo,
  CA_ERRORS,
  READ_ERRORS,
  WRITE_ERRORS,
  Gen1CreateRequest,
  Gen1FinalizeRequest,
  Gen1OrderRequest,
  NameQuery,
  Order,
  SidParams,
  TAGS,
} from './schemas.ts';
import { certkeepRequest, challengeTypeOf, checkInRoot, coveredNames, csrSubjectOf, domainOf, storedName } from './translate.ts';
import { certificateObject, rclOrder, viewOptions } from './views.ts';

const ORDERS = '/production/ssl/core/v1/order/subscription/:sid';
const CERTIFICATES = '/production/ssl/core/v1/certificate/subscription/:sid';

type Sid = { sid: string };

export async function gen1Routes(app: FastifyInstance, services: Services): Promise<void> {
  const { engine: ctx } = services;
  const config = (scope: 'read' | 'write') => ({ compat: 'rcl' as const, scope });
  const schema = (summary: string, parts: object) => ({ tags: TAGS, summary, params: SidParams, ...parts });

  app.post<{ Params: Sid; Body: Static<typeof Gen1CreateRequest> }>(
    `${ORDERS}/create`,
    {
      config: config('write'),
      schema: schema('Order a certificate for hostName: returns the tokens to place', { body: Gen1CreateRequest, response: { 200: Order, ...CA_ERRORS } }),
    },
    async (request) => {
      const body = request.body;
      const challengeType = challengeTypeOf(body.challengeType);
      const rootDomain = domainOf(body.rootDomain, 'rootDomain');
      const host = domainOf(body.hostName, 'hostName', true);
      checkInRoot(host, rootDomain, 'hostName');
      const valid = certkeepRequest({
        subscriptionId: request.caller.subscriptionId,
        name: storedName(host, 'hostName'),
        names: coveredNames(host, rootDomain, body.isSAN ?? false, challengeType),
        rootDomain,
        challengeType,
        email: body.email,
        issuer: services.engine.issuer,
      });
      const { certificate, order } = await openOrder(services, valid, undefined);
      return rclOrder(order, certificate);
    },
  );

  app.post<{ Params: Sid; Body: Static<typeof Gen1OrderRequest> }>(
    `${ORDERS}/get`,
    { config: config('read'), schema: schema('An order by its orderUri', { body: Gen1OrderRequest, response: { 200: Order, ...READ_ERRORS } }) },
    async (request) => {
      const { certificate, order } = await orderOf(services, request.caller.subscriptionId, request.body.orderUri);
      return rclOrder(order, certificate);
    },
  );

  app.post<{ Params: Sid; Body: Static<typeof Gen1OrderRequest> }>(
    `${ORDERS}/validate`,
    {
      config: config('write'),
      schema: schema('Ask the CA to validate a pending order once the tokens are placed', {
        body: Gen1OrderRequest,
        response: { 200: Type.Null({ description: 'an empty body' }), ...CA_ERRORS },
      }),
    },
    async (request, reply) => {
      await validate(services, await orderOf(services, request.caller.subscriptionId, request.body.orderUri));
      return reply.code(200).send();
    },
  );

  app.post<{ Params: Sid; Body: Static<typeof Gen1FinalizeRequest> }>(
    `${ORDERS}/finalize`,
    {
      config: config('write'),
      schema: schema('Finalize a validated order with the CSR details and the PFX password: returns the certificate', {
        body: Gen1FinalizeRequest,
        response: { 200: Certificate, ...CA_ERRORS },
      }),
    },
    async (request) => {
      const { sid } = request.params;
      const body = request.body;
      const name = body.hostName ? storedName(domainOf(body.hostName, 'hostName', true), 'hostName') : undefined;
      const csrInfo = body.csrInfo ? csrSubjectOf(body.csrInfo) : undefined;
      const started = await orderOf(services, sid, body.orderUri, name);
      await changeCertificate(ctx, sid, started.certificate.name, { csrInfo, pfxPassword: body.password ?? undefined });
      await finalize(services, started);
      const certificate = await mustFindCertificate(ctx, sid, started.certificate.name);
      return certificateObject(ctx, certificate, viewOptions(request, 'upper'));
    },
  );

  app.get<{ Params: Sid; Querystring: { name: string } }>(
    `${CERTIFICATES}/get`,
    { config: config('read'), schema: schema('A certificate by name', { querystring: NameQuery, response: { 200: Certificate, ...READ_ERRORS } }) },
    async (request) => {
      const certificate = await certificateOf(services, request.caller.subscriptionId, request.query.name);
      return certificateObject(ctx, certificate, viewOptions(request, 'upper'));
    },
  );

  app.get<{ Params: Sid }>(
    `${CERTIFICATES}/get/all`,
    { config: config('read'), schema: schema("The subscription's certificates", { response: { 200: Type.Array(CertificateInfo), ...READ_ERRORS } }) },
    async (request) => {
      // One query for the certificates and their current versions' dates.
      const summaries = await listCertificateSummaries(ctx, request.caller.subscriptionId);
      return summaries.map((summary) => ({
        certificateName: summary.name,
        ...(summary.notBefore && summary.notAfter ? { issueDate: summary.notBefore, expiryDate: summary.notAfter } : {}),
      }));
    },
  );

  app.delete<{ Params: Sid; Querystring: { name: string } }>(
    `${CERTIFICATES}/delete`,
    {
      config: config('write'),
      schema: schema('Delete a certificate', { querystring: NameQuery, response: { 200: Type.Null({ description: 'an empty body' }), ...WRITE_ERRORS } }),
    },
    async (request, reply) => {
      const certificate = await certificateOf(services, request.caller.subscriptionId, request.query.name);
      await deleteCertificate(ctx, request.caller.subscriptionId, certificate.name);
      return reply.code(200).send();
    },
  );
}
