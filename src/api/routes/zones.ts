// /api/v1/zones: the DNS zones DNS-01 writes to. Credentials go in, never out.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { addZone, type Engine, listManagedZones, removeZone } from '../../engine/index.ts';
import { problemResponses } from '../problems.ts';

const ZoneName = Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]*\\.?$' });

const ZoneSummary = Type.Object({
  zone: Type.String(),
  provider: Type.String(),
  nameservers: Type.Array(Type.String()),
  settings: Type.Record(Type.String(), Type.String()),
  delegation: Type.Optional(Type.Object({ record: Type.String(), target: Type.String() })),
});

const CreateZone = Type.Object(
  {
    zone: ZoneName,
    provider: Type.String({ minLength: 1, maxLength: 50 }),
    settings: Type.Record(Type.String({ maxLength: 100 }), Type.String({ maxLength: 4096 }), {
      maxProperties: 20,
      description:
        "the provider's settings. exec: command must be one the operator allowed (certkeep serve --allow-exec), and timeout is the operator's; " +
        "delegated: no listen (the operator's --dns-listen); powerdns apiUrl, rfc2136 server and nameservers: public addresses, or ranges the operator allowed (--allow-outbound)",
    }),
    nameservers: Type.Optional(Type.Array(Type.String({ maxLength: 300 }), { maxItems: 10 })),
  },
  { additionalProperties: false },
);

export async function zoneRoutes(app: FastifyInstance, options: { engine: Engine }): Promise<void> {
  const { engine: ctx } = options;

  app.get('/zones', { config: { scope: 'read' }, schema: { response: { 200: Type.Object({ zones: Type.Array(ZoneSummary) }) } } }, async (request) => ({
    zones: await listManagedZones(ctx, request.caller.subscriptionId),
  }));

  app.post<{ Body: { zone: string; provider: string; settings: Record<string, string>; nameservers?: string[] } }>(
    '/zones',
    { config: { scope: 'admin' }, schema: { body: CreateZone, response: { 201: ZoneSummary, ...problemResponses(409) } } },
    async (request, reply) => {
      const summary = await addZone(ctx, request.caller.subscriptionId, request.body);
      return reply.code(201).send(summary);
    },
  );

  app.delete<{ Params: { zone: string } }>(
    '/zones/:zone',
    { config: { scope: 'admin' }, schema: { params: Type.Object({ zone: ZoneName }), response: { 204: Type.Null({ description: 'done; no body' }), ...problemResponses(404) } } },
    async (request, reply) => {
      await removeZone(ctx, request.caller.subscriptionId, request.params.zone);
      return reply.code(204).send();
    },
  );
}
