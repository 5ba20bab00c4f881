// The RCL certificate portal's API, all three generations (compat/rcl-ssl-api.md),
// so that a client written for the portal works against certkeep by changing
// its base URL. Registered without a prefix (the generations have different
// base paths) and encapsulated: its text/plain errors and its authentication
// apply to its routes only; the native API keeps its problem documents.
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.ts';
import { rclAuth } from './auth.ts';
import { rclErrorHandler, rclNotFound } from './errors.ts';
import { gen1Routes } from './gen1.ts';
import { gen2Routes } from './gen2.ts';
import { gen3Routes } from './gen3.ts';

/** Where the generations' paths begin: an unknown route under them is answered in text, like the rest of this API. */
const PREFIXES = ['/prod', '/production', '/v1/subscription', '/public/v1/subscription'];

export async function rclRoutes(app: FastifyInstance, services: Services): Promise<void> {
  for (const prefix of PREFIXES) {
    await app.register(async (scope) => scope.setNotFoundHandler(rclNotFound), { prefix });
  }
  app.setErrorHandler(rclErrorHandler);
  app.addHook('onRequest', rclAuth(services.engine));
  await app.register(gen3Routes, services);
  await app.register(gen2Routes, services);
  await app.register(gen1Routes, services);
}
