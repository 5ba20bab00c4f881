// certkeep serve: the multi-tenant server — REST API and compatibility routes,
// the HTTP-01 (and, when asked, TLS-ALPN-01) responder answering from the
// store, and the workers that drive orders in the background.
import type { Command } from 'commander';
import { addressText, parseAddress } from '../../address.ts';
import { OperationError, UsageError } from '../../errors.ts';
import { startHttpResponder } from '../../challenges/http-responder.ts';
import { startTlsAlpnResponder } from '../../challenges/tls-alpn-responder.ts';
import { challengeRecordSource, challengeValues } from '../../dns/delegated.ts';
import { startDelegatedDnsServer } from '../../dns/delegated-server.ts';
import { ServerSolvers, storedTlsAlpnAnswers } from '../../engine/solvers.ts';
import { RenewalScheduler } from '../../engine/scheduler.ts';
import { OrderWorker } from '../../engine/worker.ts';
import { findKeyAuthorization } from '../../store/repositories/challenge-tokens.ts';
import { crashSeam, withSession } from '../session.ts';
import { issuerFrom } from './issue.ts';
import { wholeNumber } from './options.ts';
import { limitOptions, readServeLimits, type ServeLimitFlags } from './serve-limits.ts';

/** Orders in flight get 10 s (worker.ts); the rest of the shutdown is quick. */
const SHUTDOWN_LIMIT_MS = 30_000;
/** How often a server started by npm looks whether npm is still there. */
const LAUNCHER_CHECK_MS = 500;

interface ServeOptions extends ServeLimitFlags {
  listen: string;
  httpChallengeListen: string;
  tlsAlpnListen?: string;
  workers: string;
  leaseSeconds: string;
  dnsListen?: string;
  dnsZone?: string;
  renewInterval: string;
  rateLimit?: string;
}

export function registerServe(program: Command): void {
  limitOptions(program.command('serve'))
    .description('run the certificate server: REST API, compatibility APIs, HTTP-01 (and TLS-ALPN-01) responders and background workers')
    .option('--listen <host:port>', 'address of the API', '127.0.0.1:8080')
    .option('--http-challenge-listen <host:port|off>', 'where HTTP-01 challenges are answered from the store', '0.0.0.0:80')
    .option('--tls-alpn-listen <host:port>', 'where TLS-ALPN-01 challenges are answered from the store; off by default (port 443 of the names must reach it)')
    .option('--workers <n>', 'orders this instance drives at once (0: API and challenge responders only)', '16')
    .option('--dns-listen <host:port>', "run certkeep's challenge DNS server here, for zones of provider delegated")
    .option('--dns-zone <zone>', 'the delegation zone that server is authoritative for (with --dns-listen)')
    .option('--renew-interval <seconds>', 'how often the renewal scheduler looks for due certificates (0: never)', '60')
    .option('--rate-limit <n/period|off>', 'requests per API key, e.g. 600/min (default), 20/s, off (env CERTKEEP_RATE_LIMIT)')
    .option('--smtp-url <url>', 'send notification mail through smtp[s]://user:password@host:port (env CERTKEEP_SMTP_URL)')
    .option('--smtp-from <address>', 'sender of notification mail (env CERTKEEP_SMTP_FROM; default: the SMTP user if it is an address)')
    .option('--lease-seconds <n>', "how long a dead instance's orders wait before another resumes them", '30')
    .action(async (options: ServeOptions, command: Command) => {
      const { host, port } = parseAddress(options.listen, '--listen');
      const challenge = options.httpChallengeListen === 'off' ? undefined : parseAddress(options.httpChallengeListen, '--http-challenge-listen', 80);
      const tlsAlpn = options.tlsAlpnListen === undefined ? undefined : parseAddress(options.tlsAlpnListen, '--tls-alpn-listen', 443);
      const concurrency = wholeNumber(options.workers, '--workers', 0);
      const leaseMs = wholeNumber(options.leaseSeconds, '--lease-seconds', 1) * 1000;
      const renewEveryMs = wholeNumber(options.renewInterval, '--renew-interval', 0, 86_400) * 1000;
      if (Boolean(options.dnsListen) !== Boolean(options.dnsZone)) {
        throw new UsageError('--dns-listen and --dns-zone go together: where the challenge DNS server listens, and the zone delegated to it', 'dns-zone');
      }
      const { parseRateLimit } = await import('../../api/rate-limit.ts');
      const rateLimit = options.rateLimit === undefined ? undefined : parseRateLimit(options.rateLimit, '--rate-limit');
      const limits = readServeLimits(options);
      await withSession(
        command.optsWithGlobals(),
        async (session) => {
          const { ctx } = session;
          // Loaded here so that the other commands start without Fastify.
          const { buildApp } = await import('../../api/app.ts');
          const { startWebhookDispatcher } = await import('../../notify/dispatcher.ts');
          const { startEmailDispatcher } = await import('../../notify/email.ts');
          const { TenantLimits } = await import('../../engine/tenant-limits.ts');
          let app: Awaited<ReturnType<typeof buildApp>> | undefined;
          // What tenants may make this server do (DESIGN.md, trust boundaries); the operator's CA is not limited.
          ctx.limits = new TenantLimits({ ...limits.tenants, operatorCaUrls: [issuerFrom(session).caUrl], log: (details, message) => app?.log.warn(details, message) });
          const solvers = new ServerSolvers(ctx, {
            resolvers: session.config.resolvers.length > 0 ? session.config.resolvers : undefined,
            propagationTimeoutMs: session.config.dnsTimeoutMs,
            tlsAlpnListener: tlsAlpn !== undefined,
          });
          const logger = session.config.json ? false : { level: session.config.debug ? 'debug' : 'info' };
          const dns = { resolvers: session.config.resolvers.length > 0 ? session.config.resolvers : undefined, timeoutMs: session.config.dnsTimeoutMs };
          app = await buildApp({ ctx, solvers, issuer: issuerFrom(session), logger, rateLimit, dns, connections: limits.connections, trustProxy: limits.trustProxy });
          // Every listener opens before any work starts: one that cannot open ends serve
          // with exit 1 and nothing left running, so that systemd's Restart= takes over.
          const opened: (() => Promise<void>)[] = [async () => ctx.limits?.close(), async () => void (await app.close()), () => solvers.close()];
          let address: string;
          let responder: Awaited<ReturnType<typeof startHttpResponder>> | undefined;
          let tlsAlpnResponder: Awaited<ReturnType<typeof startTlsAlpnResponder>> | undefined;
          let dnsServer: Awaited<ReturnType<typeof startDelegatedDnsServer>> | undefined;
          try {
            responder = challenge
              ? await listening('--http-challenge-listen', options.httpChallengeListen, () =>
                  startHttpResponder({ ...challenge, tokens: { keyAuthorization: (token) => findKeyAuthorization(ctx.store.db, token) } }),
                )
              : undefined;
            if (responder) opened.push(responder.close);
            tlsAlpnResponder = tlsAlpn
              ? await listening('--tls-alpn-listen', options.tlsAlpnListen!, () =>
                  startTlsAlpnResponder({ ...tlsAlpn, answers: storedTlsAlpnAnswers(ctx), option: '--tls-alpn-listen' }),
                )
              : undefined;
            if (tlsAlpnResponder) opened.push(tlsAlpnResponder.close);
            // Delegated zones' challenge values, answered for every subscription (dns/delegated.ts).
            dnsServer = options.dnsListen
              ? await listening('--dns-listen', options.dnsListen, () =>
                  startDelegatedDnsServer({ listen: options.dnsListen!, zone: options.dnsZone!, records: challengeRecordSource(challengeValues) }),
                )
              : undefined;
            if (dnsServer) opened.push(dnsServer.stop);
            // The API last: its "listening" log line then means that serve is up.
            address = await listening('--listen', options.listen, () => app.listen({ host, port }));
          } catch (error) {
            for (const close of opened.reverse()) await close().catch(() => {});
            throw error;
          }
          const worker = new OrderWorker(ctx, solvers, {
            concurrency,
            leaseMs,
            afterStep: crashSeam(),
            onError: (orderId, error) => app.log.warn({ orderId, error: (error as Error).message }, 'order run failed'),
          });
          if (concurrency > 0) worker.start();
          const scheduler = new RenewalScheduler(ctx, { intervalMs: renewEveryMs, stuckAfterMs: leaseMs, onError: (error) => app.log.warn({ error: (error as Error).message }, 'renewal') });
          if (renewEveryMs > 0) scheduler.start();
          const mailer = session.config.smtp ? startEmailDispatcher(ctx, { smtp: session.config.smtp, log: (message) => app.log.warn(message) }) : undefined;
          const webhooks = startWebhookDispatcher(ctx, { onError: (error) => app.log.error({ error: (error as Error).message }, 'webhook dispatcher') });
          const httpChallenge = responder ? `${challenge!.host}:${responder.port}` : null;
          const tlsAlpnChallenge = tlsAlpnResponder ? addressText({ host: tlsAlpn!.host, port: tlsAlpnResponder.port }) : null;
          session.output.result(
            { listening: address, httpChallenge, tlsAlpnChallenge, dns: dnsServer?.address ?? null },
            [
              `certkeep serving on ${address}`,
              httpChallenge ? `; HTTP-01 on ${httpChallenge}` : '',
              tlsAlpnChallenge ? `; TLS-ALPN-01 on ${tlsAlpnChallenge}` : '',
              dnsServer ? `; challenge DNS for ${options.dnsZone} on ${dnsServer.address}` : '',
            ].join(''),
          );
          await signalled();
          // Stop taking work, let the orders in flight finish (or park them at their
          // stored step), finish the requests in flight, then close the store.
          await scheduler.stop();
          await worker.stop();
          await webhooks.stop();
          await mailer?.stop();
          await app.close();
          await responder?.close();
          await tlsAlpnResponder?.close();
          await dnsServer?.stop();
          await solvers.close();
          await ctx.limits.close();
        },
        { create: true },
      );
    });
}

/** Opens one listener; its failure is one line naming serve's own flag for it. */
async function listening<T>(flag: string, address: string, open: () => Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (error) {
    throw new OperationError(`${flag}: cannot listen on ${address}: ${listenProblem(error)}`);
  }
}

function listenProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code ?? ((error as Error).cause as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'EADDRINUSE':
      return 'the port is already in use; stop what listens there, or give another address';
    case 'EACCES':
      return 'not allowed to listen there; ports below 1024 need root or CAP_NET_BIND_SERVICE';
    case 'EADDRNOTAVAIL':
      return 'this machine has no such address';
    default:
      return (error as Error).message;
  }
}

/**
 * The first SIGINT, SIGTERM or SIGHUP. Repeats (a wrapper forwarding the same
 * signal) must not cut the shutdown short. Under npm (npx, npm run) the server
 * runs below an `sh -c` that dies of the SIGTERM npm forwards without passing it
 * on: there, the launcher's death counts as the signal.
 */
function signalled(): Promise<void> {
  return new Promise((resolve) => {
    let received = false;
    const stop = () => {
      if (received) return;
      received = true;
      clearInterval(launcherWatch);
      // A shutdown that hangs must still end the process.
      setTimeout(() => process.exit(1), SHUTDOWN_LIMIT_MS).unref();
      resolve();
    };
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, stop);
    const launcher = process.ppid;
    const launcherWatch = setInterval(() => {
      if (process.env.npm_command && process.ppid !== launcher) stop();
    }, LAUNCHER_CHECK_MS);
  });
}
