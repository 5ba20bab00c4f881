// /api/v1/dns-providers and zone tests: what the portal's zone form is drawn
// from (each provider's own settings description), and a check that a zone's
// credentials work.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { describeProviders, type Engine, testManagedZone } from '../../engine/index.ts';
import { problemResponses } from '../problems.ts';

const Provider = Type.Object({
  name: Type.String(),
  description: Type.String(),
  settings: Type.Array(
    Type.Object({
      name: Type.String(),
      description: Type.String(),
      required: Type.Boolean(),
      secret: Type.Boolean({ description: 'written once, never shown back' }),
    }),
  ),
});

const ZoneParams = Type.Object({
  zone: Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]*\\.?$' }),
});

const TestResult = Type.Union([
  Type.Object({ ok: Type.Literal(true), fqdn: Type.String(), elapsedMs: Type.Integer() }),
  Type.Object({
    ok: Type.Literal(false),
    error: Type.String({ description: 'what failed, from the DNS server or the provider' }),
  }),
]);

export async function providerRoutes(
  app: FastifyInstance,
  options: { engine: Engine },
): Promise<void> {
  const { engine: ctx } = options;
  // How zone tests look for their record: serve's --resolver and --dns-timeout.
  const dns = { resolvers: ctx.dns.resolvers, timeoutMs: ctx.dns.propagationTimeoutMs };

  app.get(
    '/dns-providers',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'The DNS providers zones can use, with their settings',
        response: { 200: Type.Object({ providers: Type.Array(Provider) }) },
      },
    },
    async () => ({ providers: describeProviders() }),
  );

  app.post<{ Params: { zone: string } }>(
    '/zones/:zone/test',
    {
      config: { scope: 'admin' },
      schema: {
        summary:
          'Test a zone: write a TXT record, wait until every authoritative server serves it, remove it',
        params: ZoneParams,
        response: { 200: TestResult, ...problemResponses(404) },
      },
    },
    async (request) => testManagedZone(ctx, request.caller.subscriptionId, request.params.zone, dns),
  );
}
