// Generation 3 (`/prod/v3/ssl/certificate/subscription/{sid}`): order/create
// returns the tokens, schedule/create hands the order to the workers,
// schedule/renew (the vendor's SDK) opens a renewal for them, get shows the
// Certificate object (with its files once issued), delete removes it.
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { changeCertificate, deleteCertificate } from '../../../engine/index.ts';
import { UsageError } from '../../../errors.ts';
import type { Services } from '../../services.ts';
import { certificateOf, openOrder, orderOf, schedule, scheduleRenewal } from './flows.ts';
import { Certificate, CertificateRequest, CA_ERRORS, READ_ERRORS, WRITE_ERRORS, NameParams, ScheduleRenewRequest, ScheduleRequest, SidParams, TAGS } from './schemas.ts';
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
        response: { 200: Certificate, ...CA_ERRORS },
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
        subscriptionId: request.caller.subscriptionId,
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
          response: { 200: Type.Null({ description: 'an empty body' }), ...WRITE_ERRORS },
        },
      },
      async (request, reply) => {
        const body = request.body;
        checkTarget(body.target);
        if (body.challengeType) challengeTypeOf(body.challengeType);
        const name = body.certificateName ? storedName(body.certificateName) : undefined;
        const started = await orderOf(services, request.caller.subscriptionId, body.orderUri, name);
        if (body.password) await changeCertificate(ctx, request.caller.subscriptionId, started.certificate.name, { pfxPassword: body.password });
        await schedule(services, started);
        return reply.code(200).send();
      },
    );

    app.post<{ Params: Sid; Body: Static<typeof ScheduleRenewRequest> }>(
      `${base}/schedule/renew`,
      {
        config: config('write'),
        schema: {
          tags: TAGS,
          summary: "Renew a certificate in the background (the vendor's SDK): where the client answers the challenges, get/certificatename then shows the new order's tokens and orderUri for schedule/create",
          params: SidParams,
          body: ScheduleRenewRequest,
          response: { 200: Type.Null({ description: 'an empty body' }), ...CA_ERRORS },
        },
      },
      async (request, reply) => {
        const body = request.body;
        checkTarget(body.target);
        if (body.challengeType) challengeTypeOf(body.challengeType);
        const subscriptionId = request.caller.subscriptionId;
        const certificate = await renewedCertificate(services, subscriptionId, body.certificateName ?? undefined, body.id ?? undefined);
        if (body.password) await changeCertificate(ctx, subscriptionId, certificate.name, { pfxPassword: body.password });
        await scheduleRenewal(services, certificate);
        return reply.code(200).send();
      },
    );
  }

  app.get<{ Params: Named }>(
    `${BASE}/get/certificatename/:name`,
    {
      config: config('read'),
      schema: { tags: TAGS, summary: 'A certificate, with its files once issued', params: NameParams, response: { 200: Certificate, ...READ_ERRORS } },
    },
    async (request) => {
      const certificate = await certificateOf(services, request.caller.subscriptionId, request.params.name);
      return certificateObject(ctx, certificate, viewOptions(request, 'lower'));
    },
  );

  app.delete<{ Params: Named }>(
    `${BASE}/delete/certificatename/:name`,
    {
      config: config('write'),
      schema: { tags: TAGS, summary: 'Delete a certificate', params: NameParams, response: { 200: Type.Null({ description: 'an empty body' }), ...WRITE_ERRORS } },
    },
    async (request, reply) => {
      const certificate = await certificateOf(services, request.caller.subscriptionId, request.params.name);
      await deleteCertificate(ctx, request.caller.subscriptionId, certificate.name);
      return reply.code(200).send();
    },
  );
}

/** The certificate schedule/renew names: by certificateName, else by id; both given must be the same one. */
async function renewedCertificate(services: Services, subscriptionId: string, name: string | undefined, id: number | string | undefined) {
  if (name === undefined && id === undefined) throw new UsageError('certificateName: name the certificate to renew (or send its id)', 'certificateName');
  const byId = id === undefined ? undefined : await certificateOf(services, subscriptionId, String(id), 'id');
  const byName = name === undefined ? undefined : await certificateOf(services, subscriptionId, name, 'certificateName');
  if (byId && byName && byId.id !== byName.id) {
    throw new UsageError(`id: ${id} is certificate "${byId.name}", not "${byName.name}"; send the id and certificateName of one certificate`, 'id');
  }
  return (byName ?? byId)!;
}
