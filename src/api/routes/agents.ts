// /api/v1/agents: the subscription's host agents (enrolled, rotated and removed
// by admins) and the targets assigned to them (by write keys). An agent's token is shown once, at enrolment and at each
// rotation; only its hash is stored. A target's reload and deploy hook are
// names the agent's host resolves, never commands.
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import {
  addAgentTarget,
  createAgent,
  DEPLOY_FORMATS,
  type Engine,
  listAgentTargetsOf,
  listAgentViews,
  removeAgent,
  removeAgentTarget,
  rotateAgentToken,
} from '../../engine/index.ts';
import { CertificateNameParams } from '../schemas.ts';
import { problemResponses } from '../problems.ts';

const AgentIdParams = Type.Object({ id: Type.String({ pattern: '^agt_[0-9a-z]{26}$' }) });
const TargetParams = Type.Object({
  id: AgentIdParams.properties.id,
  targetId: Type.String({ pattern: '^dpt_[0-9a-z]{26}$' }),
});

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

export const AgentTarget = Type.Object({
  id: Type.String(),
  agent: Nullable(Type.String()),
  certificate: Type.String(),
  directory: Type.String({ description: 'where on the host (`to`)' }),
  format: Type.String(),
  deployHook: Nullable(Type.String({ description: "a name the agent's --allow-hook resolves" })),
  reload: Nullable(Type.String({ description: "a name the agent's --allow-reload resolves" })),
  verify: Type.Array(Type.String()),
  status: Type.Union(['deployed', 'pending', 'failed', 'waiting'].map((s) => Type.Literal(s)), {
    description: "deployed: on the current version; pending: being deployed; failed; waiting: not reported yet",
  }),
  currentSerial: Nullable(Type.String()),
  serial: Nullable(Type.String({ description: 'the serial the agent last deployed here' })),
  verifiedAt: Nullable(Type.String()),
  deployedAt: Nullable(Type.String()),
  attempts: Type.Integer(),
  error: Nullable(Type.String({ description: 'why the last attempt failed, or what the host refused' })),
});

const Agent = Type.Object({
  id: Type.String(),
  host: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  rotatedAt: Nullable(Type.String({ format: 'date-time' })),
  lastSeenAt: Nullable(Type.String({ format: 'date-time', description: 'when the agent last called; null before its first call' })),
  targets: Type.Array(AgentTarget, { description: 'what it serves' }),
});

const Enrolled = Type.Object({
  id: Type.String(),
  host: Type.String(),
  token: Type.String({ description: 'shown only in this response: certkeep agent --token' }),
});

const NewAgent = Type.Object(
  { host: Type.String({ minLength: 1, maxLength: 253, description: "the host's name, shown with its deployments" }) },
  { additionalProperties: false },
);

const CommandName = (option: string) =>
  Type.String({
    minLength: 1,
    maxLength: 64,
    description: `a name the agent resolves through its ${option} NAME=CMD; never a command`,
  });

const NewTarget = Type.Object(
  {
    certificate: CertificateNameParams.properties.name,
    to: Type.String({ minLength: 1, maxLength: 4096, description: "an absolute directory on the agent's host, under one of its --allow-dir" }),
    format: Type.Optional(Type.Union(DEPLOY_FORMATS.map((format) => Type.Literal(format)))),
    reload: Type.Optional(CommandName('--allow-reload')),
    deployHook: Type.Optional(CommandName('--allow-hook')),
    verify: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 300 }), {
        maxItems: 10,
        description: 'HOST:PORT that must serve the new serial; the agent connects only where its --allow-verify allows',
      }),
    ),
  },
  { additionalProperties: false },
);


export async function agentRoutes(app: FastifyInstance, options: { engine: Engine }): Promise<void> {
  const { engine: ctx } = options;

  app.get(
    '/agents',
    {
      config: { scope: 'read' },
      schema: {
        summary: "The subscription's host agents, when each was last seen and what it serves",
        response: { 200: Type.Object({ agents: Type.Array(Agent) }), ...problemResponses(401, 403) },
      },
    },
    async (request) => ({ agents: await listAgentViews(ctx, request.caller.subscriptionId) }),
  );

  app.post<{ Body: Static<typeof NewAgent> }>(
    '/agents',
    {
      config: { scope: 'admin' },
      schema: {
        summary: 'Enrol a host agent; its token is shown once',
        body: NewAgent,
        response: { 201: Enrolled, ...problemResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const agent = await createAgent(ctx, request.caller.subscriptionId, request.body.host);
      return reply.code(201).send({ id: agent.id, host: agent.host, token: agent.token });
    },
  );

  app.delete<{ Params: Static<typeof AgentIdParams> }>(
    '/agents/:id',
    {
      config: { scope: 'admin' },
      schema: {
        summary: "Remove an agent: its token is refused at once, its targets go; the files on its host stay",
        params: AgentIdParams,
        response: { 204: Type.Null(), ...problemResponses(401, 403, 404) },
      },
    },
    async (request, reply) => {
      await removeAgent(ctx, request.params.id, request.caller.subscriptionId);
      return reply.code(204).send();
    },
  );

  app.post<{ Params: Static<typeof AgentIdParams> }>(
    '/agents/:id/rotate',
    {
      config: { scope: 'admin' },
      schema: {
        summary: 'A new token for the agent, shown once; the old one is refused at once',
        params: AgentIdParams,
        response: { 200: Enrolled, ...problemResponses(401, 403, 404) },
      },
    },
    async (request) => {
      const agent = await rotateAgentToken(ctx, request.params.id, request.caller.subscriptionId);
      return { id: agent.id, host: agent.host, token: agent.token };
    },
  );

  app.get<{ Params: Static<typeof AgentIdParams> }>(
    '/agents/:id/targets',
    {
      config: { scope: 'read' },
      schema: {
        summary: "The agent's targets and where each deployment stands",
        params: AgentIdParams,
        response: { 200: Type.Object({ targets: Type.Array(AgentTarget) }), ...problemResponses(401, 403, 404) },
      },
    },
    async (request) => ({ targets: await listAgentTargetsOf(ctx, request.caller.subscriptionId, request.params.id) }),
  );

  app.post<{ Params: Static<typeof AgentIdParams>; Body: Static<typeof NewTarget> }>(
    '/agents/:id/targets',
    {
      config: { scope: 'write' },
      schema: {
        summary: "Assign a certificate to a directory on the agent's host (or change the target already there)",
        params: AgentIdParams,
        body: NewTarget,
        response: { 201: AgentTarget, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const target = await addAgentTarget(ctx, request.caller.subscriptionId, request.params.id, request.body);
      return reply.code(201).send(target);
    },
  );

  app.delete<{ Params: Static<typeof TargetParams> }>(
    '/agents/:id/targets/:targetId',
    {
      config: { scope: 'write' },
      schema: {
        summary: 'Stop deploying there: the agent stops managing the directory and leaves its files',
        params: TargetParams,
        response: { 204: Type.Null(), ...problemResponses(401, 403, 404) },
      },
    },
    async (request, reply) => {
      await removeAgentTarget(ctx, request.caller.subscriptionId, request.params.id, request.params.targetId);
      return reply.code(204).send();
    },
  );
}
