// certkeep serve: the multi-tenant server — REST API and compatibility routes,
// the HTTP-01 responder answering from the store, and the workers that drive
// orders in the background.
import type { Command } from 'commander';
import { parseAddress } from '../../address.ts';
import { UsageError } from '../../errors.ts';
import { startHttpResponder } from '../../challenges/http-responder.ts';
import { challengeRecordSource, challengeValues } from '../../dns/providers/delegated/delegated.ts';
import { startDelegatedDnsServer } from '../../dns/providers/delegated/server.ts';
import { ServerSolvers } from '../../engine/solvers.ts';
import { RenewalScheduler } from '../../engine/scheduler.ts';
import { DEFAULT_RETENTION_DAYS, Retention } from '../../engine/retention.ts';
import { OrderWorker } from '../../engine/worker.ts';
import { findKeyAuthorization } from '../../store/repositories/challenge-tokens.ts';
import { crashSeam, withSession } from '../session.ts';
import { issuerFrom } from './issue.ts';

interface ServeOptions {
  listen: string;
  httpChallengeListen: string;
  workers: string;
  leaseSeconds: string;
  dnsListen?: string;
  dnsZone?: string;
  renewInterval: string;
  retentionDays: string;
  rateLimit?: string;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the certificate server: REST API, compatibility APIs, HTTP-01 responder and background workers')
    .option('--listen <host:port>', 'address of the API', '127.0.0.1:8080')
    .option('--http-challenge-listen <host:port|off>', 'where HTTP-01 challenges are answered from the store', '0.0.0.0:80')
    .option('--workers <n>', 'orders this instance drives at once (0: API and HTTP-01 only)', '16')
    .option('--dns-listen <host:port>', "run certkeep's challenge DNS server here, for zones of provider delegated")
    .option('--dns-zone <zone>', 'the delegation zone that server is authoritative for (with --dns-listen)')
    .option('--renew-interval <seconds>', 'how often the renewal scheduler looks for due certificates (0: never)', '60')
    .option('--retention-days <days>', 'finished orders, superseded versions and acknowledged events older than this are removed', String(DEFAULT_RETENTION_DAYS))
    .option('--rate-limit <n/period|off>', 'requests per API key, e.g. 600/min (default), 20/s, off (env CERTKEEP_RATE_LIMIT)')
    .option('--smtp-url <url>', 'send notification mail through smtp[s]://user:password@host:port (env CERTKEEP_SMTP_URL)')
    .option('--smtp-from <address>', 'sender of notification mail (env CERTKEEP_SMTP_FROM; default: the SMTP user if it is an address)')
    .option('--lease-seconds <n>', "how long a dead instance's orders wait before another resumes them", '30')
    .action(async (options: ServeOptions, command: Command) => {
      const { host, port } = parseAddress(options.listen, '--listen');
      const challenge = options.httpChallengeListen === 'off' ? undefined : parseAddress(options.httpChallengeListen, '--http-challenge-listen', 80);
      const concurrency = wholeNumber(options.workers, '--workers', 0);
      const leaseMs = wholeNumber(options.leaseSeconds, '--lease-seconds', 1) * 1000;
      const renewEveryMs = wholeNumber(options.renewInterval, '--renew-interval', 0, 86_400) * 1000;
      const retentionDays = wholeNumber(options.retentionDays, '--retention-days', 1, 36_500);
      if (Boolean(options.dnsListen) !== Boolean(options.dnsZone)) {
        throw new UsageError('--dns-listen and --dns-zone go together: where the challenge DNS server listens, and the zone delegated to it', 'dns-zone');
      }
      const { parseRateLimit } = await import('../../api/rate-limit.ts');
      const rateLimit = options.rateLimit === undefined ? undefined : parseRateLimit(options.rateLimit, '--rate-limit');
      await withSession(command.optsWithGlobals(), async (session) => {
        const { ctx } = session;
        // Loaded here so that the other commands start without Fastify.
        const { buildApp } = await import('../../api/app.ts');
        const { startWebhookDispatcher } = await import('../../notify/dispatcher.ts');
        const { startEmailDispatcher } = await import('../../notify/email.ts');
        const solvers = new ServerSolvers(ctx, {
          resolvers: session.config.resolvers.length > 0 ? session.config.resolvers : undefined,
          propagationTimeoutMs: session.config.dnsTimeoutMs,
        });
        const logger = session.config.json ? false : { level: session.config.debug ? 'debug' : 'info' };
        const app = await buildApp({ ctx, solvers, issuer: issuerFrom(session), logger, rateLimit });
        const responder = challenge
          ? await startHttpResponder({ ...challenge, tokens: { keyAuthorization: (token) => findKeyAuthorization(ctx.store.db, token) } })
          : undefined;
        // Delegated zones' challenge values, answered for every subscription (dns/delegated.ts).
        const dnsServer = options.dnsListen
          ? await startDelegatedDnsServer({ listen: options.dnsListen, zone: options.dnsZone!, records: challengeRecordSource(challengeValues) })
          : undefined;
        const worker = new OrderWorker(ctx, solvers, {
          concurrency,
          leaseMs,
          afterStep: crashSeam(),
          onError: (orderId, error) => app.log.warn({ orderId, error: (error as Error).message }, 'order run failed'),
        });
        if (concurrency > 0) worker.start();
        const scheduler = new RenewalScheduler(ctx, { intervalMs: renewEveryMs, onError: (error) => app.log.warn({ error: (error as Error).message }, 'renewal') });
        if (renewEveryMs > 0) scheduler.start();
        const retention = new Retention(ctx, { days: retentionDays, onError: (error) => app.log.warn({ error: (error as Error).message }, 'retention') });
        retention.start();
        const mailer = session.config.smtp ? startEmailDispatcher(ctx, { smtp: session.config.smtp, log: (message) => app.log.warn(message) }) : undefined;
        const webhooks = startWebhookDispatcher(ctx, { onError: (error) => app.log.error({ error: (error as Error).message }, 'webhook dispatcher') });
        const address = await app.listen({ host, port });
        const httpChallenge = responder ? `${challenge!.host}:${responder.port}` : null;
        session.output.result(
          { listening: address, httpChallenge, dns: dnsServer?.address ?? null },
          [
            `certkeep serving on ${address}`,
            httpChallenge ? `; HTTP-01 on ${httpChallenge}` : '',
            dnsServer ? `; challenge DNS for ${options.dnsZone} on ${dnsServer.address}` : '',
          ].join(''),
        );
        await signalled();
        // Stop taking work, let the orders in flight finish (or park them at their
        // stored step), finish the requests in flight, then close the store.
        await scheduler.stop();
        await retention.stop();
        await worker.stop();
        await webhooks.stop();
        await mailer?.stop();
        await app.close();
        await responder?.close();
        await dnsServer?.stop();
        await solvers.close();
      });
    });
}

function signalled(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

function wholeNumber(text: string, option: string, min: number, max = 1000): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`${option}: "${text}" must be a whole number from ${min} to ${max}`, option.slice(2));
  }
  return value;
}
