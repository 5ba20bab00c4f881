// Tests generated from the route table: every route the app registers is
// collected (Fastify's `fastify.initialization` diagnostics channel lets us add
// an onRoute hook before buildApp registers anything), and each gets the same
// checks — authentication, scopes, tenant isolation and hostile bodies. A new
// route is covered the moment it exists; when it needs something this file
// cannot guess (a path parameter, a valid body), a test fails and says what to add.
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse, RouteOptions } from 'fastify';
import { type ApiFixture, apiFixture, type Tenant } from './fixture.ts';

// ---- What the generated tests need to know; extend these with new routes. ----

/**
 * A value for every path parameter, by name, taken from the tenant's fixtures
 * (see fixture.ts). Tenant isolation substitutes B's values into A's requests.
 * Parameters that do not name a tenant's resource return the same for both.
 */
const PARAMS: Record<string, (tenant: Tenant, url: string) => string | undefined> = {
  name: (t) => t.certificateName,
  zone: (t) => t.zone,
  format: () => 'pem',
  sid: (t) => t.subscriptionId,
  targetId: (t) => t.agentTargetId,
  // `id` names a different resource under each route group.
  id: (t, url) => {
    if (url.startsWith('/api/v1/orders/')) return t.orderId;
    if (url.startsWith('/api/v1/events/') || url.startsWith('/autodns/v1/poll/')) return String(t.eventId);
    if (url.startsWith('/api/v1/webhooks/')) return t.webhookId;
    if (url.startsWith('/api/v1/users/')) return t.userId;
    if (url.startsWith('/api/v1/api-keys/')) return t.spareKeyId;
    if (url.startsWith('/api/v1/agents/')) return t.agentId;
    if (url.startsWith('/autodns/v1/certificate/')) return t.certificateName;
    return undefined;
  },
};

/**
 * A valid body for every route with a body schema, by "METHOD /url"; the
 * hostile-body tests change one thing in it at a time.
 */
const BODIES: Record<string, (tenant: Tenant) => Record<string, unknown>> = {
  'POST /api/v1/certificates': () => ({ names: ['new.example'], challengeType: 'dns-01' }),
  'POST /api/v1/webhooks': () => ({ url: 'https://hooks.example/new' }),
  'PUT /api/v1/notifications': () => ({ emails: ['ops@example.com'] }),
  'POST /api/v1/certificates/:name/revoke': () => ({ reason: 'superseded' }),
  'PATCH /api/v1/certificates/:name': () => ({ pfxPassword: 'a new one' }),
  'POST /api/v1/session/password': () => ({ currentPassword: 'the old one', newPassword: 'a new one of enough length' }),
  'POST /api/v1/users': () => ({ email: 'new-person@example.com', role: 'viewer' }),
  'POST /api/v1/api-keys': () => ({ scope: 'read', label: 'a script' }),
  'POST /api/v1/agents': () => ({ host: 'web9.example.com' }),
  'POST /api/v1/agents/:id/targets': (t) => ({ certificate: t.certificateName, to: '/srv/other/tls', reload: 'nginx', verify: ['127.0.0.1:443'] }),
  'POST /api/v1/agent/deployments': (t) => ({ target: t.agentTargetId, versionId: 'ver_none', status: 'pending' }),
  'POST /api/v1/zones': () => ({
    zone: 'new.example',
    provider: 'rfc2136',
    settings: { server: '127.0.0.1:53', tsigKey: 'k', tsigSecret: 'c2VjcmV0c2VjcmV0' },
  }),
};

/** Body fields that hold a domain name (a string) or several (an array of strings). */
const DOMAIN_FIELDS = new Set(['zone', 'name', 'names', 'domain', 'domains', 'commonName']);
/** "METHOD /url field" where a field of that name holds no domain (a certificate's name is a label of the user's choosing). */
const NOT_DOMAINS = new Set(['POST /api/v1/certificates name']);

/** Routes without `config.scope` must be one of these (exact URL, or a prefix ending in /). */
const PUBLIC_ROUTES: Record<string, string> = {
  '/healthz': 'liveness probe',
  '/readyz': 'readiness probe',
  '/api/openapi.json': 'the OpenAPI document',
  '/api/docs': 'interactive docs (@fastify/swagger-ui)',
  '/api/docs/': 'interactive docs: assets and documents under it',
  '/dl/*': 'signed, expiring download links: the signature is the credential (download-links.ts)',
  '/api/v1/session': 'signing in (POST); its other methods are scoped',
  '/': 'the web portal (portal.ts): its page, public like any sign-in page',
  '/sign-in': 'the web portal',
  '/account': 'the web portal',
  '/certificates': 'the web portal (the API is under /api/v1)',
  '/certificates/*': 'the web portal',
  '/settings': 'the web portal',
  '/new-certificate': 'the web portal',
  '/settings/*': 'the web portal',
  '/assets/*': "the web portal's hashed scripts and styles",
};

/** The key of each scope, and the person of the role with the same rights. */
const KEY_OF: Record<string, (t: Tenant) => string> = { read: (t) => t.readKey, write: (t) => t.writeKey, admin: (t) => t.adminKey };
const ROLE_OF = { read: 'viewer', write: 'operator', admin: 'admin' } as const;
const RANK: Record<string, number> = { read: 0, write: 1, admin: 2 };

/**
 * Compatibility routes authenticate the way the API they imitate does (the key
 * must match the subscription in the path; AutoDNS also takes Basic auth) and
 * answer in its error format; they say so with `config: { compat: 'rcl' | 'autodns' }`.
 * Every one: no credentials → 401; a garbage key → 401; A's key with B's
 * identifiers → refused (never 2xx) without a trace of B; a read key on a
 * write route → 401 or 403; never a stack trace.
 */
async function checkCompatRoute(api: ApiFixture, route: CollectedRoute): Promise<void> {
  const body = ['POST', 'PUT'].includes(route.method) ? {} : undefined;
  const call = (tenant: Tenant, headers: Record<string, string>) =>
    api.request({ method: route.method as 'GET', url: pathFor(route, tenant), headers, ...(body ? { payload: body } : {}) });
  const label = `${route.method} ${route.url}`;
  // Echoing what the caller itself sent in the path is no leak; anything else of B's is.
  const path = decodeURIComponent(pathFor(route, api.b));
  const leaks = markersOf(api.b).filter((marker) => !path.includes(marker));
  const foreign = route.params.length > 0;
  const checks: [Record<string, string>, (status: number) => boolean, string][] = [
    [{}, (status) => status === 401, 'no credentials'],
    [{ authorization: 'Bearer garbage' }, (status) => status === 401, 'a garbage key'],
    [{ authorization: `Basic ${Buffer.from(`${api.a.subscriptionId}:garbage`).toString('base64')}` }, (status) => status === 401, 'Basic with a garbage key'],
    [{ authorization: `Bearer ${api.a.writeKey}` }, (status) => !foreign || [400, 401, 403, 404].includes(status), "A's key on B's identifiers"],
  ];
  for (const [headers, expected, what] of checks) {
    const response = await call(api.b, headers);
    assert.ok(expected(response.statusCode), `${label}, ${what}: ${response.statusCode} ${response.body.slice(0, 300)}`);
    assert.ok(response.statusCode < 500, `${label}, ${what}: ${response.statusCode} ${response.body.slice(0, 300)}`);
    assert.ok(!/\n\s+at /.test(response.body), `${label}, ${what}: a stack trace`);
    for (const marker of leaks) assert.ok(!response.body.includes(marker), `${label}, ${what}: shows B's ${marker}`);
  }
  if (route.config.scope === 'write') {
    const response = await call(api.a, { authorization: `Bearer ${api.a.readKey}` });
    assert.ok([401, 403].includes(response.statusCode), `${label}, a read key: ${response.statusCode} ${response.body.slice(0, 300)}`);
  }
}

/**
 * Every agent route: no credentials, a garbage token → 401; an API key (even
 * an admin's) → 403; never a stack trace; A's token on B's identifiers shows
 * nothing of B's.
 */
async function checkAgentRoute(api: ApiFixture, route: CollectedRoute): Promise<void> {
  const body = BODIES[`${route.method} ${route.url}`]?.(api.a);
  const call = (tenant: Tenant, key: string | undefined) =>
    api.request({
      method: route.method as 'GET',
      url: pathFor(route, tenant),
      key,
      headers: route.config.stream ? { accept: 'application/json' } : {},
      ...(body ? { payload: body } : {}),
    });
  const label = `${route.method} ${route.url}`;
  for (const key of [undefined, 'garbage', `cka_aaaaaaaaaaaa.${'A'.repeat(43)}`]) assertProblem(await call(api.a, key), 401, `${label}, token ${key}`);
  assertProblem(await call(api.a, api.a.adminKey), 403, `${label}, an admin API key`);
  const foreign = await call(api.b, api.a.agentToken);
  assert.ok(foreign.statusCode < 500 && !/\n\s+at /.test(foreign.body), `${label}: ${foreign.statusCode} ${foreign.body.slice(0, 300)}`);
  // Echoing what the caller itself sent in the path is no leak; anything else of B's is.
  const path = decodeURIComponent(pathFor(route, api.b));
  for (const marker of markersOf(api.b).filter((m) => !path.includes(m))) assert.ok(!foreign.body.includes(marker), `${label} shows B's ${marker}`);
}

// ---- The route table ----

interface CollectedRoute {
  method: string;
  url: string;
  config: Record<string, unknown>;
  hasBody: boolean;
  bodySchema: { properties?: Record<string, { type?: string }> } | undefined;
  params: string[];
}

const INVALID_DOMAINS = [
  '-leading-hyphen.example',
  'two..dots.example',
  '.leading-dot.example',
  'space in.example',
  'bücher.example',
  `${'a'.repeat(64)}.example`,
  `${'a.'.repeat(126)}example`,
  'slash.example/evil',
  '*.*.example',
  'nul\u0000.example',
];
const GARBAGE_KEYS = ['garbage', `ck_aaaaaaaaaaaa.${'A'.repeat(43)}`, 'Bearer', '\u00ff'];

describe('every route, from the route table', () => {
  let api: ApiFixture;
  let routes: CollectedRoute[];

  before(async () => {
    const collected: CollectedRoute[] = [];
    const collect = (message: unknown) => {
      (message as { fastify: FastifyInstance }).fastify.addHook('onRoute', (route) => {
        collected.push(...describeRoute(route));
      });
    };
    diagnostics.subscribe('fastify.initialization', collect);
    try {
      api = await apiFixture();
    } finally {
      diagnostics.unsubscribe('fastify.initialization', collect);
    }
    routes = collected.filter((route) => route.method !== 'HEAD');
    assert.ok(routes.some((route) => route.url === '/api/v1/certificates'), 'the route table was collected');
  });
  after(() => api.close());

  const scoped = () => routes.filter((route) => typeof route.config.scope === 'string' && !route.config.compat);
  const send = (route: CollectedRoute, tenant: Tenant, key: string | undefined, body?: unknown) =>
    api.request({
      method: route.method as 'GET',
      url: pathFor(route, tenant),
      key,
      ...(body === undefined ? {} : { payload: body as object }),
    });

  test('every route is scoped, public (PUBLIC_ROUTES) or a compatibility route', () => {
    const unexplained = routes.filter((route) => !route.config.scope && !route.config.agent && !isPublic(route.url));
    assert.deepEqual(
      unexplained.map((route) => `${route.method} ${route.url}`),
      [],
      'these routes declare no config.scope: give them one (read or write), config.agent for a host agent\'s routes, or, if they are meant to be public, add them to PUBLIC_ROUTES in test/api/routes.test.ts',
    );
  });

  test('every path parameter has a value in PARAMS', () => {
    const missing = routes
      .filter((route) => route.config.scope)
      .flatMap((route) => route.params.filter((p) => PARAMS[p]?.(api.a, route.url) === undefined).map((p) => ({ route, p })));
    assert.deepEqual(
      missing.map(({ route, p }) => `${route.method} ${route.url}: give  ${p}  a value for this route in PARAMS in test/api/routes.test.ts (and each tenant one in test/api/fixture.ts)`),
      [],
    );
  });

  test('every route with a body schema has a valid body in BODIES', () => {
    const missing = scoped().filter((route) => route.hasBody && !BODIES[`${route.method} ${route.url}`]);
    assert.deepEqual(
      missing.map((route) => `add '${route.method} ${route.url}': (t) => ({ …a valid body… }) to BODIES in test/api/routes.test.ts`),
      [],
    );
  });

  test('no key, a garbage key → 401 problem document on every scoped route', async (t) => {
    for (const route of scoped()) {
      await t.test(`${route.method} ${route.url}`, async () => {
        for (const key of [undefined, ...GARBAGE_KEYS]) {
          const response = await send(route, api.a, key);
          assertProblem(response, 401, `key ${JSON.stringify(key)}`);
        }
        const viaHeader = await api.request({ method: route.method as 'GET', url: pathFor(route, api.a), headers: { 'x-api-key': 'garbage' } });
        assertProblem(viaHeader, 401, 'X-API-Key: garbage');
        for (const cookie of ['certkeep_session=garbage', `certkeep_session=cks_${'A'.repeat(43)}`]) {
          const viaCookie = await api.request({ method: route.method as 'GET', url: pathFor(route, api.a), headers: { cookie } });
          assertProblem(viaCookie, 401, cookie);
        }
      });
    }
  });

  test('a read-only key → 403 on every write route, and gets past auth on every read route', async (t) => {
    for (const route of scoped()) {
      await t.test(`${route.method} ${route.url}`, async () => {
        const response = await send(route, api.a, api.a.readKey);
        if (route.config.scope !== 'read') assertProblem(response, 403);
        else if (!route.config.stream) assert.ok(![401, 403].includes(response.statusCode), `${response.statusCode}: ${response.body}`);
      });
    }
  });

  test('a write key → 403 on every admin route', async (t) => {
    for (const route of scoped().filter((r) => r.config.scope === 'admin')) {
      await t.test(`${route.method} ${route.url}`, async () => assertProblem(await send(route, api.a, api.a.writeKey), 403));
    }
  });

  test('a person has the rights of the key of the same scope: refused where it is refused', async (t) => {
    for (const route of scoped()) {
      const needed = RANK[route.config.scope as string];
      for (const scope of ['read', 'write'] as const) {
        if (RANK[scope] >= needed) continue;
        await t.test(`${route.method} ${route.url} as ${ROLE_OF[scope]}`, async () => {
          const session = api.a.sessions[ROLE_OF[scope]];
          const byKey = await send(route, api.a, KEY_OF[scope](api.a));
          const byPerson = await api.request({ method: route.method as 'GET', url: pathFor(route, api.a), headers: { cookie: session.cookie, 'x-csrf-token': session.csrf } });
          assertProblem(byKey, 403);
          assertProblem(byPerson, 403);
          assert.match(byPerson.json().detail, new RegExp(`your role \\(${ROLE_OF[scope]}\\) does not allow this`));
        });
      }
    }
  });

  test('a change made with the session cookie but without its CSRF token → 403, on every route that changes something', async (t) => {
    for (const route of scoped().filter((r) => !['GET', 'HEAD'].includes(r.method))) {
      await t.test(`${route.method} ${route.url}`, async () => {
        const admin = api.a.sessions.admin;
        const body = BODIES[`${route.method} ${route.url}`]?.(api.a);
        for (const csrf of [undefined, 'forged', api.b.sessions.admin.csrf]) {
          const response = await api.request({
            method: route.method as 'POST',
            url: pathFor(route, api.a),
            headers: { cookie: admin.cookie, ...(csrf ? { 'x-csrf-token': csrf } : {}) },
            ...(body === undefined ? {} : { payload: body }),
          });
          assertProblem(response, 403, `CSRF token ${csrf}`);
          assert.match(response.json().detail, /CSRF token/);
        }
      });
    }
    const still = await api.request({ method: 'GET', url: '/api/v1/session', headers: { cookie: api.a.sessions.admin.cookie } });
    assert.equal(still.statusCode, 200, 'the session is still there');
  });

  test("tenant isolation: A's lists hold nothing of B's", async (t) => {
    // The event stream stays open: its isolation is tested against a real server (test/e2e/portal-api.test.ts).
    const lists = scoped().filter((route) => route.method === 'GET' && route.params.length === 0 && !route.config.stream);
    assert.ok(lists.length > 0);
    for (const route of lists) {
      await t.test(`${route.method} ${route.url}`, async () => {
        const response = await send(route, api.a, api.a.adminKey);
        assert.equal(response.statusCode, 200, response.body);
        for (const marker of markersOf(api.b)) assert.ok(!response.body.includes(marker), `A's ${route.url} shows B's ${marker}: ${response.body}`);
      });
    }
  });

  test("tenant isolation: A's key with B's identifiers → 401, 403 or 404 on every route with path parameters", async (t) => {
    // Read routes first: a write route that wrongly let A through could change B's fixtures.
    const withParams = scoped()
      .filter((route) => route.params.length > 0)
      .sort((x, y) => Number(x.config.scope === 'write') - Number(y.config.scope === 'write'));
    for (const route of withParams) {
      await t.test(`${route.method} ${route.url}`, async () => {
        const body = BODIES[`${route.method} ${route.url}`]?.(api.a);
        const response = await send(route, api.b, api.a.adminKey, body);
        assert.ok([401, 403, 404].includes(response.statusCode), `${pathFor(route, api.b)} with A's key: ${response.statusCode} ${response.body}`);
        assertProblem(response, response.statusCode);
        const admin = api.a.sessions.admin;
        const asPerson = await api.request({
          method: route.method as 'GET',
          url: pathFor(route, api.b),
          headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf },
          ...(body === undefined ? {} : { payload: body }),
        });
        assert.ok([401, 403, 404].includes(asPerson.statusCode), `${pathFor(route, api.b)} as A's admin: ${asPerson.statusCode} ${asPerson.body}`);
      });
    }
    const bCertificates = await api.request({ method: 'GET', url: '/api/v1/certificates', key: api.b.readKey });
    assert.ok(bCertificates.body.includes(api.b.certificateName), "B's certificate is still there");
    const bZones = await api.request({ method: 'GET', url: '/api/v1/zones', key: api.b.readKey });
    assert.ok(bZones.body.includes(api.b.zone), "B's zone is still there");
  });

  test('hostile bodies → 4xx problem documents on every route with a body schema, and the process stays up', async (t) => {
    for (const route of scoped().filter((r) => r.hasBody)) {
      const valid = BODIES[`${route.method} ${route.url}`];
      if (!valid) continue; // reported by the BODIES test
      await t.test(`${route.method} ${route.url}`, async () => {
        const post = (payload: string, contentType = 'application/json') =>
          api.request({ method: route.method as 'POST', url: pathFor(route, api.a), key: api.a.adminKey, headers: { 'content-type': contentType }, payload });
        assertProblem(await post('{"unterminated": '), 400, 'malformed JSON');
        assertProblem(await post('[]'), 400, 'an array instead of an object');
        assertProblem(await post(JSON.stringify(valid(api.a)), 'text/plain'), 415, 'text/plain');

        for (const [field, schema] of Object.entries(route.bodySchema?.properties ?? {})) {
          if (!schema.type) continue;
          const wrong = schema.type === 'object' ? 12345 : { wrong: true };
          assertProblem(await post(JSON.stringify({ ...valid(api.a), [field]: wrong })), 400, `${field} of the wrong type`);
        }

        const stringField = Object.entries(route.bodySchema?.properties ?? {}).find(([, s]) => s.type === 'string')?.[0];
        if (stringField) {
          const huge = await post(JSON.stringify({ ...valid(api.a), [stringField]: 'x'.repeat(1_000_000) }));
          assert.ok([400, 413].includes(huge.statusCode), `a 1 MB ${stringField}: ${huge.statusCode}`);
          assertProblem(huge, huge.statusCode);
        }

        const domainFields = Object.entries(route.bodySchema?.properties ?? {}).filter(
          ([f]) => DOMAIN_FIELDS.has(f) && !NOT_DOMAINS.has(`${route.method} ${route.url} ${f}`),
        );
        for (const [field, schema] of domainFields) {
          for (const domain of INVALID_DOMAINS) {
            const value = schema.type === 'array' ? [domain] : domain;
            const response = await post(JSON.stringify({ ...valid(api.a), [field]: value }));
            assert.ok(response.statusCode >= 400 && response.statusCode < 500, `${field}: ${JSON.stringify(domain)} → ${response.statusCode} ${response.body}`);
            assertProblem(response, response.statusCode, `${field}: ${JSON.stringify(domain)}`);
          }
        }
        assert.equal((await api.request({ method: 'GET', url: '/healthz' })).statusCode, 200);
      });
    }
  });

  test("agent routes take an agent's token only, and show an agent nothing but its own", async (t) => {
    const agentRoutes = routes.filter((r) => r.config.agent);
    assert.ok(agentRoutes.length >= 5, 'the agent routes were collected');
    for (const route of agentRoutes) {
      await t.test(`${route.method} ${route.url}`, () => checkAgentRoute(api, route));
    }
    const own = await api.request({ method: 'GET', url: '/api/v1/agent/targets', key: api.a.agentToken });
    assert.equal(own.statusCode, 200, own.body);
    assert.deepEqual(own.json().targets.map((target: { id: string }) => target.id), [api.a.agentTargetId]);
    const foreignCertificate = await api.request({ method: 'GET', url: `/api/v1/agent/certificates/${api.b.certificateName}`, key: api.a.agentToken });
    assertProblem(foreignCertificate, 404, "B's certificate with A's agent token");
    const foreignTarget = await api.request({ method: 'POST', url: '/api/v1/agent/deployments', key: api.a.agentToken, payload: { target: api.b.agentTargetId, versionId: 'ver_x', status: 'pending' } });
    assertProblem(foreignTarget, 404, "B's target with A's agent token");
    for (const route of scoped().filter((r) => r.method === 'GET' && !r.config.stream)) {
      const response = await send(route, api.a, api.a.agentToken);
      assertProblem(response, 401, `${route.url} with an agent's token`);
    }
  });

  test('compatibility routes: credentials, scopes and tenant isolation in their own terms', async (t) => {
    const compat = routes.filter((r) => r.config.compat);
    assert.ok(compat.some((r) => r.config.compat === 'rcl') && compat.some((r) => r.config.compat === 'autodns'), 'both compatibility APIs were collected');
    for (const route of compat) {
      await t.test(`${route.method} ${route.url}`, () => checkCompatRoute(api, route));
    }
  });
});

function describeRoute(route: RouteOptions): CollectedRoute[] {
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  const schema = route.schema as { body?: CollectedRoute['bodySchema'] } | undefined;
  return methods.map((method) => ({
    method,
    url: route.url,
    config: (route.config ?? {}) as Record<string, unknown>,
    hasBody: schema?.body !== undefined,
    bodySchema: schema?.body,
    params: [...route.url.matchAll(/:([A-Za-z0-9_]+)/g)].map((match) => match[1]),
  }));
}

function pathFor(route: CollectedRoute, tenant: Tenant): string {
  return route.url.replace(/:([A-Za-z0-9_]+)(\([^)]*\))?/g, (_, name: string) => encodeURIComponent(PARAMS[name]?.(tenant, route.url) ?? `unknown-param-${name}`));
}

function isPublic(url: string): boolean {
  return Object.keys(PUBLIC_ROUTES).some((allowed) => url === allowed || (allowed.endsWith('/') && url.startsWith(allowed)));
}

/** Strings that would only appear in a response if it showed the tenant's data. */
function markersOf(tenant: Tenant): string[] {
  return [
    tenant.subscriptionId,
    tenant.certificateName,
    tenant.zone,
    tenant.orderId,
    tenant.webhookId,
    tenant.userId,
    tenant.userEmail,
    tenant.spareKeyId,
    tenant.agentId,
    tenant.agentTargetId,
    tenant.adminKey.slice(0, 15),
    tenant.writeKey.slice(0, 15),
    tenant.readKey.slice(0, 15),
  ];
}

function assertProblem(response: LightMyRequestResponse, status: number, what = ''): void {
  const label = `${what ? `${what}: ` : ''}${response.statusCode} ${response.body.slice(0, 300)}`;
  assert.equal(response.statusCode, status, label);
  assert.match(String(response.headers['content-type']), /^application\/problem\+json/, label);
  const body = response.json();
  assert.equal(body.status, status, label);
  assert.equal(typeof body.detail, 'string', label);
  assert.ok(!/\n\s+at /.test(response.body), `a stack trace: ${label}`);
}
