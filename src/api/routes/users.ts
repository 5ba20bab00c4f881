// /api/v1/users: the people of the subscription who sign in to the portal (admins only).
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { createUser, type Engine, listUsers, removeUser, resetUser } from '../../engine/index.ts';
import { ConflictError } from '../../errors.ts';
import { problemResponses } from '../problems.ts';

const Role = Type.Union([Type.Literal('viewer'), Type.Literal('operator'), Type.Literal('admin')], {
  description:
    'viewer: reads (never private keys or PFX); operator: also creates, renews, revokes and deletes certificates; admin: also users, keys, zones, webhooks',
});

export const User = Type.Object({
  id: Type.String(),
  email: Type.String(),
  role: Role,
  mustChangePassword: Type.Boolean(),
  lockedUntil: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  lastSignInAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
});

const NewUser = Type.Object(
  {
    email: Type.String({ minLength: 3, maxLength: 254 }),
    role: Role,
    password: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 1024,
        description: 'leave out to get a one-time password that must be changed at the first sign-in',
      }),
    ),
  },
  { additionalProperties: false },
);

const WithPassword = Type.Object({
  user: User,
  oneTimePassword: Type.Optional(
    Type.String({ description: 'shown once; the user must replace it at the first sign-in' }),
  ),
});

const UserId = Type.Object({ id: Type.String({ pattern: '^usr_[0-9a-z]{26}$' }) });

export async function userRoutes(app: FastifyInstance, options: { engine: Engine }): Promise<void> {
  const { engine: ctx } = options;
  const view = ({ subscriptionId: _, ...user }: { subscriptionId: string } & Static<typeof User>) => user;

  app.get(
    '/users',
    {
      config: { scope: 'admin' },
      schema: {
        summary: "The subscription's users",
        response: { 200: Type.Object({ users: Type.Array(User) }) },
      },
    },
    async (request) => ({
      users: (await listUsers(ctx, request.caller.subscriptionId)).map(view),
    }),
  );

  app.post<{ Body: Static<typeof NewUser> }>(
    '/users',
    {
      config: { scope: 'admin' },
      schema: {
        summary: 'Add a person who signs in to the portal',
        body: NewUser,
        response: { 201: WithPassword, ...problemResponses(409) },
      },
    },
    async (request, reply) => {
      const created = await createUser(ctx, {
        ...request.body,
        subscriptionId: request.caller.subscriptionId,
      });
      return reply.code(201).send({ ...created, user: view(created.user) });
    },
  );

  app.delete<{ Params: Static<typeof UserId> }>(
    '/users/:id',
    {
      config: { scope: 'admin' },
      schema: {
        summary: 'Remove a user; their sessions end',
        params: UserId,
        response: { 204: Type.Null({ description: 'done; no body' }), ...problemResponses(404, 409) },
      },
    },
    async (request, reply) => {
      const { caller } = request;
      if ('user' in caller && caller.user.id === request.params.id)
        throw new ConflictError('you cannot remove yourself; ask another admin');
      await removeUser(ctx, request.params.id, caller.subscriptionId);
      return reply.code(204).send();
    },
  );

  app.post<{ Params: Static<typeof UserId> }>(
    '/users/:id/reset',
    {
      config: { scope: 'admin' },
      schema: {
        summary: 'A new one-time password for a user: their sessions end and a lockout is lifted',
        params: UserId,
        response: { 200: WithPassword, ...problemResponses(404) },
      },
    },
    async (request) => {
      const reset = await resetUser(ctx, request.params.id, request.caller.subscriptionId);
      return { ...reset, user: view(reset.user) };
    },
  );
}
