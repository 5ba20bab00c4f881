// Generation 2, the core API for renewing (`/v1/subscription/{sid}/core`, also
// under `/public`): get a certificate, open a renewal order from its stored
// properties, finalize that order into a new version of the certificate.
import type { FastifyInstance } from 'fastify';
import { mustFindCertificate } from '../../../engine/index.ts';
import type { Services } from '../../services.ts';
import { certificateOf, finalize, orderOf, renewalOrder } from './flows.ts';
import { Certificate, CA_ERRORS, READ_ERRORS, FinalizeQuery, NameParams, Order, TAGS } from './schemas.ts';
import { certificateObject, rclOrder, viewOptions } from './views.ts';

const BASES = ['/v1/subscription/:sid/core', '/public/v1/subscription/:sid/core'];

type Named = { sid: string; name: string };

export async function gen2Routes(app: FastifyInstance, services: Services): Promise<void> {
  const { engine: ctx } = services;
  const config = (scope: 'read' | 'write') => ({ compat: 'rcl' as const, scope });

  for (const base of BASES) {
    app.get<{ Params: Named }>(
      `${base}/certificate/:name`,
      { config: config('read'), schema: { tags: TAGS, summary: 'A certificate by name', params: NameParams, response: { 200: Certificate, ...READ_ERRORS } } },
      async (request) => {
        const certificate = await certificateOf(services, request.caller.subscriptionId, request.params.name);
        return certificateObject(ctx, certificate, viewOptions(request, 'upper'));
      },
    );

    app.get<{ Params: Named }>(
      `${base}/certificate/:name/order`,
      {
        config: config('write'),
        schema: {
          tags: TAGS,
          summary: "A renewal order from the certificate's stored properties, with the tokens to place",
          params: NameParams,
          response: { 200: Order, ...CA_ERRORS },
        },
      },
      async (request) => {
        const { name } = await certificateOf(services, request.caller.subscriptionId, request.params.name);
        const { certificate, order } = await renewalOrder(services, request.caller.subscriptionId, name);
        return rclOrder(order, certificate);
      },
    );

    app.get<{ Params: Named; Querystring: { orderuri: string } }>(
      `${base}/certificate/:name/finalize`,
      {
        config: config('write'),
        schema: {
          tags: TAGS,
          summary: 'Validate and finalize the order: the new certificate replaces the one of that name',
          params: NameParams,
          querystring: FinalizeQuery,
          response: { 200: Certificate, ...CA_ERRORS },
        },
      },
      async (request) => {
        const { name } = await certificateOf(services, request.caller.subscriptionId, request.params.name);
        const started = await orderOf(services, request.caller.subscriptionId, request.query.orderuri, name);
        await finalize(services, started);
        const certificate = await mustFindCertificate(ctx, request.caller.subscriptionId, name);
        return certificateObject(ctx, certificate, viewOptions(request, 'upper'));
      },
    );
  }
}
