// /api/v1/agent: what a host agent does with its own token — reads the targets
// assigned to it, the files of their certificates (keys included), reports
// each deployment, and follows its changes (server-sent events, or a long poll
// where a proxy buffers streams). Nothing else: its token opens no other
// route, and an API key opens none of these. Every stream follows the one
// shared live feed (engine/live.ts), so connected agents cost the database
// nothing while nothing changes.
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  type AgentCaller,
  type Assignments,
  agentAssignments,
  agentBundle,
  agentFollowing,
  authenticateAgent,
  type Change,
  DEPLOY_FORMATS,
  type Engine,
  type LiveFeed,
  reportDeployment,
} from '../../engine/index.ts';
import { openStreams, refuseUnlessEventStream, startEventStream } from '../event-stream.ts';
import { problem, problemResponses, sendProblem } from '../problems.ts';
import { CertificateNameParams } from '../schemas.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The agent whose token came with the request, on /api/v1/agent routes. */
    agentCaller?: AgentCaller;
  }
  interface FastifyContextConfig {
    /** The route takes an agent's token, and nothing else. */
    agent?: boolean;
  }
}

const MAX_WAIT_S = 60;
/** Events after which an agent's certificate has another version, or none to deploy. */
const VERSION_EVENTS = new Set(['certificate.issued', 'certificate.renewed', 'certificate.revoked', 'certificate.deleted']);

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

const Assignment = Type.Object({
  id: Type.String({ description: 'the target' }),
  certificate: Type.String(),
  names: Type.Array(Type.String()),
  to: Type.String(),
  format: Type.Union(DEPLOY_FORMATS.map((format) => Type.Literal(format))),
  reload: Nullable(Type.String({ description: 'a name for the host to resolve (--allow-reload)' })),
  deployHook: Nullable(Type.String({ description: 'a name for the host to resolve (--allow-hook)' })),
  verify: Type.Array(Type.String()),
  verifyTimeoutMs: Type.Integer(),
  version: Nullable(Type.Object({ id: Type.String(), serial: Type.String() })),
});

const AssignmentList = Type.Object({
  agent: Type.Object({ id: Type.String(), host: Type.String() }),
  targets: Type.Array(Assignment),
  digest: Type.String({ description: 'changes whenever targets do; send it back to GET /agent/changes' }),
});

const Bundle = Type.Object({
  certificate: Type.String(),
  names: Type.Array(Type.String()),
  versionId: Type.String(),
  serial: Type.String(),
  certPem: Type.String(),
  chainPem: Type.String(),
  fullchainPem: Type.String(),
  keyPem: Type.String(),
  pfx: Nullable(Type.String({ description: 'base64 PKCS#12, when one of the agent’s targets takes pfx' })),
});

const Report = Type.Object(
  {
    target: Type.String({ pattern: '^dpt_[0-9a-z]{26}$' }),
    versionId: Type.String({ minLength: 1, maxLength: 64 }),
    status: Type.Union([Type.Literal('pending'), Type.Literal('deployed'), Type.Literal('failed')]),
    stage: Type.Optional(
      Type.Union([Type.Literal('prepare'), Type.Literal('files'), Type.Literal('hook'), Type.Literal('reload'), Type.Literal('verify')]),
    ),
    error: Type.Optional(Type.String({ maxLength: 4000 })),
    rollbackError: Type.Optional(Type.String({ maxLength: 4000 })),
    rolledBack: Type.Optional(Type.Boolean()),
    verifiedAt: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);

const ChangesQuery = Type.Object(
  {
    digest: Type.Optional(Type.String({ maxLength: 100, description: 'the digest the agent holds' })),
    wait: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_WAIT_S, description: 'seconds to wait for a change (default 25)' })),
  },
  { additionalProperties: false },
);

const AGENT_SECURITY = [{ agentToken: [] }];

export async function agentAccessRoutes(app: FastifyInstance, options: { engine: Engine; live: LiveFeed }): Promise<void> {
  const { engine: ctx, live } = options;
  const open = openStreams(app);

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (!request.routeOptions.config?.agent) return;
    const token = presentedToken(request);
    const caller = token ? await authenticateAgent(ctx, token) : undefined;
    if (caller) {
      request.agentCaller = caller;
      return;
    }
    if (token?.startsWith('ck_')) return sendProblem(reply, problem(403, "an API key opens no agent route: these take an agent's token (certkeep admin agent create)"));
    return sendProblem(
      reply,
      problem(401, token ? "the agent's token is not valid (unknown, rotated or the agent removed): enrol it again or rotate its token" : "send the agent's token as \"Authorization: Bearer <token>\""),
    );
  });

  const listOf = async (caller: AgentCaller): Promise<Static<typeof AssignmentList>> => ({
    agent: { id: caller.agentId, host: caller.host },
    ...(await agentAssignments(ctx, caller)),
  });

  app.get(
    '/agent/targets',
    {
      config: { agent: true },
      schema: {
        security: AGENT_SECURITY, summary: "The agent's targets, each with its certificate's current version (no keys)", response: { 200: AssignmentList, ...problemResponses(401, 403) } },
    },
    async (request) => listOf(request.agentCaller as AgentCaller),
  );

  app.get<{ Params: Static<typeof CertificateNameParams> }>(
    '/agent/certificates/:name',
    {
      config: { agent: true },
      schema: {
        security: AGENT_SECURITY,
        summary: "The current version's files of a certificate assigned to the agent, key included; 404 for any other",
        params: CertificateNameParams,
        response: { 200: Bundle, ...problemResponses(401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const bundle = await agentBundle(ctx, request.agentCaller as AgentCaller, request.params.name);
      reply.header('cache-control', 'no-store');
      return {
        certificate: bundle.certificateName,
        names: bundle.names,
        versionId: bundle.versionId,
        serial: bundle.serial,
        certPem: bundle.certPem,
        chainPem: bundle.chainPem,
        fullchainPem: bundle.fullchainPem,
        keyPem: bundle.keyPem,
        pfx: bundle.pfx ? Buffer.from(bundle.pfx).toString('base64') : null,
      };
    },
  );

  app.post<{ Body: Static<typeof Report> }>(
    '/agent/deployments',
    {
      config: { agent: true },
      schema: {
        security: AGENT_SECURITY,
        summary: 'Report a deployment: pending before the host is touched, then deployed or failed (with what the host refused)',
        body: Report,
        response: { 204: Type.Null(), ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await reportDeployment(ctx, request.agentCaller as AgentCaller, request.body);
      return reply.code(204).send();
    },
  );

  app.get<{ Querystring: Static<typeof ChangesQuery> }>(
    '/agent/changes',
    {
      config: { agent: true },
      schema: {
        security: AGENT_SECURITY,
        summary: 'Long poll: the targets as soon as their digest differs from `digest`, or 204 after `wait` seconds without a change',
        querystring: ChangesQuery,
        response: { 200: AssignmentList, 204: Type.Null(), ...problemResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const caller = request.agentCaller as AgentCaller;
      const now = await listOf(caller);
      if (request.query.digest !== now.digest) return now;
      const changed = await new Promise<Static<typeof AssignmentList> | 'revoked' | undefined>((resolve) => {
        const watch = watchAgent(ctx, live, caller, presentedToken(request) as string, {
          onTargets: async (list) => {
            if (list.digest !== now.digest) finish({ agent: now.agent, ...list });
          },
          onRevoked: () => finish('revoked'),
        });
        const timer = setTimeout(() => finish(undefined), (request.query.wait ?? 25) * 1000);
        const end = () => finish(undefined);
        open.add(end);
        request.raw.on('close', end);
        function finish(result: Static<typeof AssignmentList> | 'revoked' | undefined) {
          clearTimeout(timer);
          watch();
          open.delete(end);
          resolve(result);
        }
      });
      if (changed === 'revoked') return sendProblem(reply, problem(401, "the agent's token was rotated or the agent removed"));
      if (!changed) return reply.code(204).send();
      return changed;
    },
  );

  app.get(
    '/agent/stream',
    {
      config: { agent: true, stream: true },
      schema: {
        security: AGENT_SECURITY,
        summary: 'Server-sent events: `targets` (as GET /agent/targets) at once and at every change; `revoked` when the token stops being valid',
        description:
          'text/event-stream; send "Accept: text/event-stream". A comment line comes every 20 s. Where a proxy buffers ' +
          'streams, use GET /agent/changes instead.',
        response: { 200: { description: 'text/event-stream' }, ...problemResponses(401, 403, 406) },
      },
    },
    async (request, reply) => {
      const refused = refuseUnlessEventStream(request, reply);
      if (refused) return refused;
      const caller = request.agentCaller as AgentCaller;
      const first = await listOf(caller);
      let unwatch = () => {};
      const followed = agentFollowing(ctx, caller.agentId);
      const stream = startEventStream(request, reply, open, () => {
        unwatch();
        void followed();
      });
      let digest = first.digest;
      stream.send('targets', first);
      unwatch = watchAgent(ctx, live, caller, presentedToken(request) as string, {
        onTargets: async (list) => {
          if (list.digest === digest || stream.ended) return;
          digest = list.digest;
          stream.send('targets', { agent: first.agent, ...list });
        },
        onRevoked: () => {
          stream.send('revoked', {});
          stream.end();
        },
      });
      if (stream.ended) unwatch();
    },
  );
}

interface WatchHandlers {
  onTargets: (list: Assignments) => Promise<void>;
  onRevoked: () => void;
}

/**
 * Follows the live feed for one agent: its certificates' new versions and its
 * own changes (targets, token) make it read its targets again — one read per
 * change that concerns it, however many arrive meanwhile.
 */
function watchAgent(ctx: Engine, live: LiveFeed, caller: AgentCaller, token: string, handlers: WatchHandlers): () => void {
  let certificates = new Set<string>();
  let reading: Promise<void> | undefined;
  let again = false;
  let ended = false;
  const read = () => {
    if (ended) return;
    if (reading) {
      again = true;
      return;
    }
    reading = (async () => {
      await live.ready(); // read after the feed has its cursor, so no version stored meanwhile goes unseen
      if (!(await authenticateAgent(ctx, token))) {
        ended = true;
        handlers.onRevoked();
        return;
      }
      const list = await agentAssignments(ctx, caller);
      certificates = new Set(list.targets.map((target) => target.certificate));
      if (!ended) await handlers.onTargets(list);
    })()
      .catch(() => {}) // the next change reads again
      .finally(() => {
        reading = undefined;
        if (again) {
          again = false;
          read();
        }
      });
  };
  // While a read is under way its list may predate the change, whichever certificate it names: read again.
  const concerns = (change: Change) =>
    change.kind === 'agent'
      ? change.agent.id === caller.agentId
      : change.kind === 'event' &&
        VERSION_EVENTS.has(change.event.type) &&
        (reading !== undefined || certificates.has(change.event.certificate ?? ''));
  const unsubscribe = live.subscribe(
    caller.subscriptionId,
    (change) => {
      if (concerns(change)) read();
    },
    { orders: false },
  );
  read();
  return () => {
    ended = true;
    unsubscribe();
  };
}

function presentedToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  return typeof header === 'string' ? /^bearer\s+(\S+)\s*$/i.exec(header)?.[1] : undefined;
}
