// The RCL certificate portal's API, all three generations (compat/rcl-ssl-api.md),
// so that a client written for the portal works against certkeep by changing
// its base URL. Registered without a prefix (the generations have different
// base paths) and encapsulated: its text/plain errors and its authentication
// apply to its routes only; the native API keeps its problem documents.
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.ts';
import { rclAuth } from './auth.ts';
import { rclErrorHandler } from './errors.ts';
import { gen1Routes } from './gen1.ts';
import { gen2Routes } from './gen2.ts';
import { gen3Routes } from './gen3.ts';

export async function rclRoutes(app: FastifyInstance, services: Services): Promise<void> {
  app.setErrorHandler(rclErrorHandler);
  app.addHook('onRequest', rclAuth(services.engine));
  await app.register(gen3Routes, services);
  await app.register(gen2Routes, services);
  await app.register(gen1Routes, services);
}
