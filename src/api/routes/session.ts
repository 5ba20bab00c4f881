// /api/v1/session: signing in to the portal and out again, who is signed in
// (with the CSRF token changes must carry), and changing one's password.
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { changePassword, type Engine, scopesOfRole, signIn, SignInLockedError, SignInRefusedError, signOut, type UserCaller } from '../../engine/index.ts';
import { UsageError } from '../../errors.ts';
import { setSessionCookie } from '../cookies.ts';
import { problem, problemResponses, sendProblem } from '../problems.ts';

const Credentials = Type.Object(
  {
    email: Type.String({ minLength: 1, maxLength: 254 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);

const PasswordChange = Type.Object(
  {
    currentPassword: Type.String({ minLength: 1, maxLength: 1024 }),
    newPassword: Type.String({ minLength: 1, maxLength: 1024, description: 'at least 12 characters' }),
  },
  { additionalProperties: false },
);

const Role = Type.Union([Type.Literal('viewer'), Type.Literal('operator'), Type.Literal('admin')]);

const WhoAmI = Type.Object({
  subscriptionId: Type.String(),
  scopes: Type.Array(Type.String()),
  user: Type.Union(
    [
      Type.Object({
        id: Type.String(),
        email: Type.String(),
        role: Role,
        mustChangePassword: Type.Boolean(),
      }),
      Type.Null(),
    ],
    { description: 'the person signed in; null for an API key' },
  ),
  csrfToken: Type.Union([Type.String(), Type.Null()], {
    description: 'send it as x-csrf-token with every change made with the session cookie',
  }),
  expiresAt: Type.Optional(Type.String({ format: 'date-time' })),
});

export async function sessionRoutes(app: FastifyInstance, options: { engine: Engine }): Promise<void> {
  const { engine: ctx } = options;

  app.post<{ Body: Static<typeof Credentials> }>(
    '/session',
    {
      schema: {
        summary: 'Sign in to the portal: sets the session cookie (HttpOnly, SameSite=Lax)',
        description:
          'After 5 wrong passwords for an account, sign-in answers 429 with Retry-After for 15 minutes.',
        security: [],
        body: Credentials,
        // 401: wrong e-mail or password; 429: locked after repeated wrong passwords.
        response: { 200: WhoAmI, ...problemResponses(401) },
      },
    },
    async (request, reply) => {
      try {
        const session = await signIn(ctx, request.body.email, request.body.password);
        setSessionCookie(request, reply, session.token, session.expiresAt);
        reply.header('cache-control', 'no-store');
        const { user } = session;
        return {
          subscriptionId: user.subscriptionId,
          scopes: scopesOfRole(user.role),
          user: {
            id: user.id,
            email: user.email,
            role: user.role,
            mustChangePassword: user.mustChangePassword,
          },
          csrfToken: session.csrfToken,
          expiresAt: new Date(session.expiresAt).toISOString(),
        };
      } catch (error) {
        if (error instanceof SignInLockedError) {
          reply.header('retry-after', error.retryAfterSeconds);
          return sendProblem(reply, problem(429, error.message));
        }
        if (error instanceof SignInRefusedError) return sendProblem(reply, problem(401, error.message));
        throw error;
      }
    },
  );

  app.get(
    '/session',
    {
      config: { scope: 'read', beforePasswordChange: true },
      schema: {
        summary:
          'Who is calling: the person signed in (and the CSRF token) or the API key’s subscription and scopes',
        response: { 200: WhoAmI },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const { caller } = request;
      if (!('user' in caller))
        return { subscriptionId: caller.subscriptionId, scopes: caller.scopes, user: null, csrfToken: null };
      return {
        subscriptionId: caller.subscriptionId,
        scopes: caller.scopes,
        user: caller.user,
        csrfToken: caller.csrfToken,
      };
    },
  );

  app.delete(
    '/session',
    {
      config: { scope: 'read', beforePasswordChange: true },
      schema: {
        summary: 'Sign out: the session ends and its cookie is cleared',
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await signOut(ctx, person(request));
      setSessionCookie(request, reply, null, null);
      return reply.code(204).send();
    },
  );

  app.post<{ Body: Static<typeof PasswordChange> }>(
    '/session/password',
    {
      config: { scope: 'read', beforePasswordChange: true },
      schema: {
        summary: 'Change your password: your other sessions end',
        body: PasswordChange,
        // 409: the current password is wrong.
        response: { 204: Type.Null({ description: 'changed' }), ...problemResponses(409) },
      },
    },
    async (request, reply) => {
      await changePassword(ctx, person(request), request.body.currentPassword, request.body.newPassword);
      return reply.code(204).send();
    },
  );
}

function person(request: FastifyRequest): UserCaller {
  const { caller } = request;
  if (!('user' in caller))
    throw new UsageError(
      'this request carries an API key: sessions and passwords belong to people signed in to the portal (revoke a key with DELETE /api/v1/api-keys/{id})',
    );
  return caller;
}
