// Generation 2, the core API for renewing (`/v1/subscription/{sid}/core`, also
// under `/public`): get a certificate, open a renewal order from its stored
// properties, finalize that order into a new version of the certificate.
import type { FastifyInstance } from 'fastify';
import { mustFindCertificate } from '../../../engine/index.ts';
import type { Services } from '../../services.ts';
import { finalize, orderOf, renewalOrder } from './flows.ts';
import { Certificate, ERROR_RESPONSES, FinalizeQuery, NameParams, Order, TAGS } from './schemas.ts';
import { storedName } from './translate.ts';
import { certificateObject, rclOrder, viewOptions } from './views.ts';

const BASES = ['/v1/subscription/:sid/core', '/public/v1/subscription/:sid/core'];

type Named = { sid: string; name: string };

export async function gen2Routes(app: FastifyInstance, services: Services): Promise<void> {
  const { engine: ctx } = services;
  const config = (scope: 'read' | 'write') => ({ compat: 'rcl' as const, scope });

  for (const base of BASES) {
    app.get<{ Params: Named }>(
      `${base}/certificate/:name`,
      { config: config('read'), schema: { tags: TAGS, summary: 'A certificate by name', params: NameParams, response: { 200: Certificate, ...ERROR_RESPONSES } } },
      async (request) => {
        const certificate = await mustFindCertificate(ctx, request.params.sid, storedName(request.params.name, 'name'));
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
          response: { 200: Order, ...ERROR_RESPONSES },
        },
      },
      async (request) => {
        const { certificate, order } = await renewalOrder(services, request.params.sid, storedName(request.params.name, 'name'));
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
          response: { 200: Certificate, ...ERROR_RESPONSES },
        },
      },
      async (request) => {
        const name = storedName(request.params.name, 'name');
        await mustFindCertificate(ctx, request.params.sid, name);
        const started = await orderOf(services, request.params.sid, request.query.orderuri, name);
        await finalize(services, started);
        const certificate = await mustFindCertificate(ctx, request.params.sid, name);
        return certificateObject(ctx, certificate, viewOptions(request, 'upper'));
      },
    );
  }
}
