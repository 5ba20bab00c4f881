// certkeep serve: the multi-tenant API (more surfaces join in issue 4's later parts).
import type { Command } from 'commander';
import { parseAddress } from '../../address.ts';
import { withSession } from '../session.ts';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the certificate server: REST API with per-subscription API keys')
    .option('--listen <host:port>', 'address of the API', '127.0.0.1:8080')
    .action(async (options: { listen: string }, command: Command) => {
      const { host, port } = parseAddress(options.listen, '--listen');
      await withSession(command.optsWithGlobals(), async (session) => {
        // Loaded here so that the other commands start without Fastify.
        const { buildApp } = await import('../../api/app.ts');
        const app = await buildApp({ ctx: session.ctx, logger: session.config.json ? false : { level: session.config.debug ? 'debug' : 'info' } });
        const address = await app.listen({ host, port });
        session.output.result({ listening: address }, `certkeep serving on ${address}`);
        // Stop on SIGINT/SIGTERM: finish the requests in flight, then close the store.
        await new Promise<void>((resolve) => {
          const stop = () => resolve();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        await app.close();
      });
    });
}
