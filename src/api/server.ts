// The HTTP API as `certkeep serve` starts it: checked options, built over the
// engine, then listening. Handed to the command line by src/certkeep.ts.
import type { Engine } from '../engine/index.ts';
import { buildApp } from './app.ts';
import type { ConnectionLimits } from './connection-limits.ts';
import { parseRateLimit, type RateLimit } from './rate-limit.ts';

export const apiSurface = {
  parseRateLimit,

  async build(
    engine: Engine,
    options: { logger: false | { level: string }; rateLimit?: RateLimit | false; connections?: Partial<ConnectionLimits>; trustProxy?: string[] },
  ) {
    const app = await buildApp({ engine, ...options });
    return {
      log: app.log,
      listen: (host: string, port: number) => app.listen({ host, port }),
      close: () => app.close(),
    };
  },
};
