// Generation 3 (`/prod/v3/ssl/certificate/subscription/{sid}`): order/create
// returns the tokens, schedule/create hands the order to the workers, get
// shows the Certificate object (with its files once issued), delete removes it.
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { changeCertificate, deleteCertificate, mustFindCertificate } from '../../../engine/index.ts';
import type { Services } from '../../services.ts';
import { openOrder, orderOf, schedule } from './flows.ts';
import { Certificate, CertificateRequest, ERROR_RESPONSES, NameParams, ScheduleRequest, SidParams, TAGS } from './schemas.ts';
import { certkeepRequest, challengeTypeOf, checkInRoot, checkTarget, coveredNames, domainOf, storedName } from './translate.ts';
import { certificateObject, viewOptions } from './views.ts';

const BASE = '/prod/v3/ssl/certificate/subscription/:sid';
/** The seed's own spelling of schedule/create's path. */
const MISSPELT_BASE = '/prod/v3ssl/certificate/subscription/:sid';

type Sid = { sid: string };
type Named = { sid: string; name: string };

export async function gen3Routes(app: FastifyInstance, services: Services): Promise<void> {
  const { engine: ctx } = services;
  const config = (scope: 'read' | 'write') => ({ compat: 'rcl' as const, scope });

  app.post<{ Params: Sid; Body: Static<typeof CertificateRequest> }>(
    `${BASE}/order/create`,
    {
      config: config('write'),
      schema: {
        tags: TAGS,
        summary: 'Order a certificate: returns the tokens the client places (DNS TXT records or HTTP files)',
        params: SidParams,
        body: CertificateRequest,
        response: { 200: Certificate, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const body = request.body;
      checkTarget(body.target);
      const challengeType = challengeTypeOf(body.challengeType);
      const rootDomain = domainOf(body.rootDomain, 'rootDomain');
      const name = storedName(body.certificateName);
      // certificateName is the host the certificate is for when it is a domain name; a plain label names a certificate for rootDomain.
      const host = body.certificateName.includes('.') ? domainOf(body.certificateName, 'certificateName', true) : rootDomain;
      checkInRoot(host, rootDomain, 'certificateName');
      const valid = certkeepRequest({
        subscriptionId: request.params.sid,
        name,
        names: coveredNames(host, rootDomain, body.isSAN ?? false, challengeType),
        rootDomain,
        challengeType,
        email: body.email,
        issuer: services.engine.issuer,
      });
      const { certificate } = await openOrder(services, valid, body.password ?? undefined);
      return certificateObject(ctx, certificate, viewOptions(request, 'lower'));
    },
  );

  for (const base of [BASE, MISSPELT_BASE]) {
    app.post<{ Params: Sid; Body: Static<typeof ScheduleRequest> }>(
      `${base}/schedule/create`,
      {
        config: config('write'),
        schema: {
          tags: TAGS,
          summary: 'Validate and issue the order named by orderUri in the background; poll get/certificatename',
          params: SidParams,
          body: ScheduleRequest,
          response: { 200: Type.Null({ description: 'an empty body' }), ...ERROR_RESPONSES },
        },
      },
      async (request, reply) => {
        const body = request.body;
        checkTarget(body.target);
        if (body.challengeType) challengeTypeOf(body.challengeType);
        const name = body.certificateName ? storedName(body.certificateName) : undefined;
        const started = await orderOf(services, request.params.sid, body.orderUri, name);
        if (body.password) await changeCertificate(ctx, request.params.sid, started.certificate.name, { pfxPassword: body.password });
        await schedule(services, started);
        return reply.code(200).send();
      },
    );
  }

  app.get<{ Params: Named }>(
    `${BASE}/get/certificatename/:name`,
    {
      config: config('read'),
      schema: { tags: TAGS, summary: 'A certificate, with its files once issued', params: NameParams, response: { 200: Certificate, ...ERROR_RESPONSES } },
    },
    async (request) => {
      const certificate = await mustFindCertificate(ctx, request.params.sid, storedName(request.params.name, 'name'));
      return certificateObject(ctx, certificate, viewOptions(request, 'lower'));
    },
  );

  app.delete<{ Params: Named }>(
    `${BASE}/delete/certificatename/:name`,
    {
      config: config('write'),
      schema: { tags: TAGS, summary: 'Delete a certificate', params: NameParams, response: { 200: Type.Null({ description: 'an empty body' }), ...ERROR_RESPONSES } },
    },
    async (request, reply) => {
      await deleteCertificate(ctx, request.params.sid, storedName(request.params.name, 'name'));
      return reply.code(200).send();
    },
  );
}
