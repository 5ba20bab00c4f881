// An API over a fresh SQLite store with two tenants, A and B, each holding
// one of everything the routes deal in. When a new kind of resource gets
// routes, give each tenant one here (and its path parameter a row in
// routes.test.ts's PARAMS).
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { type AppOptions, buildApp } from '../../src/api/app.ts';
import { type Engine, engineOn } from '../../src/engine/engine.ts';
import { signIn } from '../../src/engine/sessions.ts';
import { createApiKey, createSubscription } from '../../src/engine/tenancy.ts';
import { ROLES, type Role } from '../../src/engine/callers.ts';
import { createUser } from '../../src/engine/users.ts';
import { addZone } from '../../src/engine/zones.ts';
import { createAgent } from '../../src/engine/agents.ts';
import { addAgentTarget } from '../../src/engine/agent-targets.ts';
import { openStore, type Store } from '../../src/store/database.ts';
import { createWebhook } from '../../src/notify/webhooks.ts';
import { insertCertificate } from '../../src/store/repositories/certificates.ts';
import { appendEvent } from '../../src/store/repositories/events.ts';
import { recordAnswers, undocumented } from '../openapi/answers.ts';
import { allowLoopback } from '../rig/limits.ts';
import { tempDir } from '../rig/tmp.ts';
import { certificateRecord, rowsFor } from '../store/rows.ts';

export interface Tenant {
  subscriptionId: string;
  /** The subscription's first key: read, write and admin. */
  adminKey: string;
  /** read and write */
  writeKey: string;
  readKey: string;
  /** A key only the tests that revoke keys touch. */
  spareKeyId: string;
  /** One person of each role, signed in: the cookie header and the CSRF token. */
  sessions: Record<Role, { cookie: string; csrf: string }>;
  /** A user that the tests that remove or reset users touch. */
  userId: string;
  userEmail: string;
  certificateName: string;
  zone: string;
  orderId: string;
  eventId: number;
  webhookId: string;
  /** A host agent, its token, and its target (the tenant's certificate, at /srv/<label>/tls). */
  agentId: string;
  agentToken: string;
  agentTargetId: string;
}

export interface ApiFixture {
  store: Store;
  ctx: Engine;
  app: FastifyInstance;
  a: Tenant;
  b: Tenant;
  /** app.inject with the key, if any, as a bearer token. */
  request(options: InjectOptions & { key?: string }): Promise<LightMyRequestResponse>;
  /** Another app over the same store and tenants (closed with the fixture), e.g. with other limits. */
  appWith(options: Partial<Omit<AppOptions, 'engine'>>): Promise<FastifyInstance>;
  close(): Promise<void>;
}

/** The password of the fixture's signed-in users. */
export const PASSWORD = 'correct horse battery staple';

/** Every answer of every app a fixture builds; close() holds them against the app's OpenAPI document. */
const recorder = recordAnswers();

/** The rate limit is off unless asked for: the tests make many requests with one key. */
export async function apiFixture(options: Partial<Omit<AppOptions, 'engine'>> = {}): Promise<ApiFixture> {
  const dir = await tempDir();
  const store = await openStore({ dataDir: dir.path });
  const ctx = allowLoopback(engineOn(store, { answers: 'server' }));
  const app = await buildApp({ rateLimit: false, ...options, engine: ctx });
  const a = await makeTenant(ctx, 'a');
  const b = await makeTenant(ctx, 'b');
  const apps = [app];
  return {
    store,
    ctx,
    app,
    a,
    b,
    request: ({ key, ...inject }) =>
      app.inject({ ...inject, headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...inject.headers } }),
    async appWith(other) {
      const built = await buildApp({ rateLimit: false, ...other, engine: ctx });
      apps.push(built);
      return built;
    },
    async close() {
      // An app that answered nothing may not be ready, and has nothing to judge.
      const answered = apps.filter((built) => recorder.answersOf(built).length > 0);
      const problems = answered.flatMap((built) => undocumented(built.swagger(), recorder.answersOf(built)));
      for (const built of apps) await built.close();
      await ctx.close();
      await store.close();
      await dir.remove();
      if (problems.length > 0) throw new Error(`answers the OpenAPI document does not list:\n${[...new Set(problems)].join('\n')}`);
    },
  };
}

async function makeTenant(ctx: Engine, label: string): Promise<Tenant> {
  const subscription = await createSubscription(ctx, `tenant ${label}`);
  const read = await createApiKey(ctx, subscription.id, 'read');
  const write = await createApiKey(ctx, subscription.id, 'write');
  const spare = await createApiKey(ctx, subscription.id, 'read', 'spare');
  const sessions = {} as Tenant['sessions'];
  for (const role of ROLES) {
    const email = `${role}@${label}.example`;
    await createUser(ctx, { subscriptionId: subscription.id, email, role, password: PASSWORD });
    const session = await signIn(ctx, email, PASSWORD);
    sessions[role] = { cookie: `certkeep_session=${session.token}`, csrf: session.csrfToken };
  }
  const user = await createUser(ctx, { subscriptionId: subscription.id, email: `someone@${label}.example`, role: 'viewer' });
  const certificateName = `www.${label}.example`;
  const rows = rowsFor(subscription.id);
  await insertCertificate(ctx.store.db, certificateRecord({
    ...rows.certificates,
    name: certificateName,
    identifiers: JSON.stringify([{ type: 'dns', value: certificateName }]),
  }));
  await ctx.store.db.insertInto('acme_accounts').values(rows.acme_accounts).execute();
  await ctx.store.db.insertInto('orders').values({ ...rows.orders, order_url: `${rows.orders.order_url}-${label}`, step: 'placed', goal: 'placed' }).execute();
  await appendEvent(ctx.store.db, { subscriptionId: subscription.id, certificateId: rows.certificates.id, type: 'certificate.issued', payload: { name: certificateName } }, Date.now());
  const event = await ctx.store.db.selectFrom('events').select('id').where('subscription_id', '=', subscription.id).executeTakeFirstOrThrow();
  const webhook = await createWebhook(ctx, subscription.id, { url: `https://hooks.${label}.example/certkeep` });
  const zone = `${label}.example`;
  await addZone(ctx, subscription.id, {
    zone,
    provider: 'rfc2136',
    settings: { server: '127.0.0.1:53', tsigKey: 'k', tsigSecret: 'c2VjcmV0c2VjcmV0' },
  });
  const agent = await createAgent(ctx, subscription.id, `web.${label}.example`);
  const target = await addAgentTarget(ctx, subscription.id, agent.id, { certificate: certificateName, to: `/srv/${label}/tls`, reload: 'nginx' });
  return {
    agentId: agent.id,
    agentToken: agent.token,
    agentTargetId: target.id,
    subscriptionId: subscription.id,
    adminKey: subscription.key.apiKey,
    writeKey: write.apiKey,
    readKey: read.apiKey,
    spareKeyId: spare.id,
    sessions,
    userId: user.user.id,
    userEmail: user.user.email,
    certificateName,
    zone,
    orderId: rows.orders.id,
    eventId: event.id,
    webhookId: webhook.id,
  };
}
