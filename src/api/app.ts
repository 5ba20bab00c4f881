// The HTTP API: one Fastify app, route groups as plugins, API-key auth and
// RFC 9457 problem documents for every error.
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { type Engine, LiveFeed, TenantLimits } from '../engine/index.ts';
import { accessLogPlugin, QuietRequestLogs } from './access-log.ts';
import { authPlugin } from './auth.ts';
import { openApiPlugin } from './openapi.ts';
import { problem, problemErrorHandler, sendProblem } from './problems.ts';
import { strictValidation } from './validation.ts';
import { connectionLimits, type ConnectionLimits } from './connection-limits.ts';
import { redactedUrl } from './access-log.ts';
import { DEFAULT_RATE_LIMIT, type RateLimit, rateLimitFromEnv, rateLimitPlugin } from './rate-limit.ts';
import { certificateRoutes } from './routes/certificates.ts';
import { orderRoutes } from './routes/orders.ts';
import type { Services } from './services.ts';
import { eventRoutes } from './routes/events.ts';
import { fileRoutes } from './routes/files.ts';
import { healthRoutes } from './routes/health.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { notificationRoutes } from './routes/notifications.ts';
import { zoneRoutes } from './routes/zones.ts';
import { autodnsRoutes } from './compat/autodns/index.ts';
import { rclRoutes } from './compat/rcl/index.ts';
import { downloadRoutes } from './routes/downloads.ts';
import { portalRoutes } from './portal.ts';
import { apiKeyRoutes } from './routes/api-keys.ts';
import { dashboardRoutes } from './routes/dashboard.ts';
import { providerRoutes } from './routes/providers.ts';
import { sessionRoutes } from './routes/session.ts';
import { streamRoutes } from './routes/stream.ts';
import { userRoutes } from './routes/users.ts';
import { agentRoutes } from './routes/agents.ts';
import { agentAccessRoutes } from './routes/agent-access.ts';

export interface AppOptions {
  /** The engine the routes call: its solvers answer for requests that drive an order themselves, its issuer is the CA new certificates use unless the request names one. */
  engine: Engine;
  /** pino options, or false; API keys in headers are always redacted. */
  logger?: FastifyServerOptions['logger'];
  bodyLimit?: number;
  /**
   * Requests per API key (or per client IP without a valid key) per window, or
   * false for none. Absent: CERTKEEP_RATE_LIMIT ("off", "600/min", "20/s"),
   * else 600 a minute. See rate-limit.ts.
   */
  rateLimit?: RateLimit | false;
  /** Timeouts and the connection cap (connection-limits.ts); default: 10 s for headers, 30 s for a request. */
  connections?: Partial<ConnectionLimits>;
  /** The reverse proxies whose X-Forwarded-For is believed (addresses or CIDRs); default none. */
  trustProxy?: string[];
  /** The built portal (web/dist); default: found beside the code. */
  portalDir?: string;
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  // The API serves tenants: without limits from the server, the strictest (no commands, public addresses only).
  options.engine.limits ??= new TenantLimits();
  const connections = connectionLimits(options.connections);
  const app = Fastify({
    ...connections.fastify,
    ...(options.trustProxy && options.trustProxy.length > 0 ? { trustProxy: options.trustProxy } : {}),
    logger: options.logger === undefined || options.logger === false ? false : withRedaction(options.logger),
    bodyLimit: options.bodyLimit ?? 256 * 1024,
    // access-log.ts writes one line per request, at a level that depends on the answer.
    logController: new QuietRequestLogs(),
    // A path parameter may be a whole domain name (253 characters); longer segments get a 414.
    routerOptions: { maxParamLength: 300 },
    // Errors Fastify raises before routing (a bad percent-encoding, an over-long segment) are problem documents too.
    frameworkErrors: problemErrorHandler,
  });
  connections.apply(app.server);
  strictValidation(app);
  app.setErrorHandler(problemErrorHandler);
  // The API speaks JSON only: a text/plain body gets a 415 rather than a confusing schema error.
  // Compatibility adapters that take other media types add their parsers inside their own plugin.
  app.removeContentTypeParser('text/plain');
  app.setNotFoundHandler((request, reply) => sendProblem(reply, problem(404, `no route ${request.method} ${request.url.split('?')[0]}`)));
  await app.register(accessLogPlugin);
  await app.register(authPlugin, { engine: options.engine });
  const limit = options.rateLimit ?? rateLimitFromEnv() ?? DEFAULT_RATE_LIMIT;
  if (limit) await app.register(rateLimitPlugin, limit);
  // The OpenAPI document is generated from the routes' schemas: one source for validation and docs.
  await app.register(openApiPlugin);
  await app.register(healthRoutes, { engine: options.engine });
  const services: Services = { engine: options.engine };
  await app.register(certificateRoutes, { ...services, prefix: '/api/v1' });
  await app.register(orderRoutes, { ...services, prefix: '/api/v1' });
  await app.register(fileRoutes, { ...services, prefix: '/api/v1' });
  await app.register(zoneRoutes, { ...services, prefix: '/api/v1' });
  await app.register(eventRoutes, { ...services, prefix: '/api/v1' });
  await app.register(webhookRoutes, { ...services, prefix: '/api/v1' });
  await app.register(downloadRoutes, services);
  await app.register(autodnsRoutes, { ...services, prefix: '/autodns/v1' });
  await app.register(notificationRoutes, { ...services, prefix: '/api/v1' });
  await app.register(rclRoutes, services);
  await app.register(sessionRoutes, { ...services, prefix: '/api/v1' });
  await app.register(userRoutes, { ...services, prefix: '/api/v1' });
  await app.register(apiKeyRoutes, { ...services, prefix: '/api/v1' });
  await app.register(dashboardRoutes, { ...services, prefix: '/api/v1' });
  await app.register(providerRoutes, { ...services, prefix: '/api/v1' });
  const live = new LiveFeed(options.engine);
  app.addHook('onClose', async () => live.close());
  await app.register(streamRoutes, { live, prefix: '/api/v1' });
  await app.register(agentRoutes, { ...services, prefix: '/api/v1' });
  await app.register(agentAccessRoutes, { ...services, live, prefix: '/api/v1' });
  await app.register(portalRoutes, { dir: options.portalDir });
  return app;
}

function withRedaction(logger: FastifyServerOptions['logger']): FastifyServerOptions['logger'] {
  const base = typeof logger === 'object' && logger !== null ? logger : {};
  return {
    ...base,
    redact: ['req.headers.authorization', 'req.headers["x-api-key"]'],
    // Fastify's own request lines (errors) carry the URL: a download link's token is a credential.
    serializers: {
      req: (request: FastifyRequest) => ({ method: request.method, url: redactedUrl(request.url), host: request.host, remoteAddress: request.ip }),
    },
  };
}
