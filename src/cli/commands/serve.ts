// certkeep serve: the multi-tenant server — the REST API and compatibility
// routes over an engine that answers from the store, with the server runtime
// beside them (engine/runtime.ts: workers, scheduler, HTTP-01 and TLS-ALPN-01
// responders, challenge DNS server, senders). Every listener opens before any
// work starts: one that cannot open ends serve with exit 1, one line naming
// its flag, and nothing left running, so that systemd's Restart= takes over.
import type { Command } from 'commander';
import { parseAddress } from '../../address.ts';
import { ConflictError, UsageError } from '../../errors.ts';
import { crashSeam, withSession } from '../session.ts';
import { DEFAULT_RETENTION_DAYS, TenantLimits } from '../../engine/index.ts';
import type { ApiServer, Surfaces } from '../surfaces.ts';
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
  deployOverdue: string;
  retentionDays: string;
  rateLimit?: string;
  metricsListen?: string;
}

export function registerServe(program: Command, surfaces: Surfaces): void {
  limitOptions(program.command('serve'))
    .description('run the certificate server: REST API, compatibility APIs, HTTP-01 (and TLS-ALPN-01) responders and background workers')
    .option('--listen <host:port>', 'address of the API', '127.0.0.1:8080')
    .option('--http-challenge-listen <host:port|off>', 'where HTTP-01 challenges are answered from the store', '0.0.0.0:80')
    .option('--tls-alpn-listen <host:port>', 'where TLS-ALPN-01 challenges are answered from the store; off by default (port 443 of the names must reach it)')
    .option('--workers <n>', 'orders this instance drives at once (0: API and challenge responders only)', '16')
    .option('--dns-listen <host:port>', "run certkeep's challenge DNS server here, for zones of provider delegated")
    .option('--dns-zone <zone>', 'the delegation zone that server is authoritative for (with --dns-listen)')
    .option('--renew-interval <seconds>', 'how often the renewal scheduler looks for due certificates (0: never)', '60')
    .option('--retention-days <days>', 'finished orders, superseded versions and acknowledged events older than this are removed', String(DEFAULT_RETENTION_DAYS))
    .option('--metrics-listen <host:port>', 'answer GET /metrics (Prometheus) on a listener of its own; off by default (decide who may reach it)')
    .option('--rate-limit <n/period|off>', 'requests per API key, e.g. 600/min (default), 20/s, off (env CERTKEEP_RATE_LIMIT)')
    .option('--smtp-url <url>', 'send notification mail through smtp[s]://user:password@host:port (env CERTKEEP_SMTP_URL)')
    .option('--smtp-from <address>', 'sender of notification mail (env CERTKEEP_SMTP_FROM; default: the SMTP user if it is an address)')
    .option('--deploy-overdue <minutes>', 'raise deployment.overdue for a target still not on the current version this long after it was issued', '30')
    .option('--lease-seconds <n>', "how long a dead instance's orders wait before another resumes them", '30')
    .action(async (options: ServeOptions, command: Command) => {
      const { host, port } = parseAddress(options.listen, '--listen');
      const challenge = options.httpChallengeListen === 'off' ? undefined : parseAddress(options.httpChallengeListen, '--http-challenge-listen', 80);
      const tlsAlpn = options.tlsAlpnListen === undefined ? undefined : parseAddress(options.tlsAlpnListen, '--tls-alpn-listen', 443);
      const metrics = options.metricsListen === undefined ? undefined : parseAddress(options.metricsListen, '--metrics-listen');
      const concurrency = wholeNumber(options.workers, '--workers', 0);
      const leaseMs = wholeNumber(options.leaseSeconds, '--lease-seconds', 1) * 1000;
      const renewEveryMs = wholeNumber(options.renewInterval, '--renew-interval', 0, 86_400) * 1000;
      const deployOverdueMs = wholeNumber(options.deployOverdue, '--deploy-overdue', 1, 10_080) * 60_000;
      const retentionDays = wholeNumber(options.retentionDays, '--retention-days', 1, 36_500);
      if (Boolean(options.dnsListen) !== Boolean(options.dnsZone)) {
        throw new UsageError('--dns-listen and --dns-zone go together: where the challenge DNS server listens, and the zone delegated to it', 'dns-zone');
      }
      // Loaded here so that the other commands start without Fastify and the senders.
      if (!surfaces.api) throw new ConflictError('this certkeep was put together without its HTTP API; run it through bin/certkeep.js');
      const surface = await surfaces.api();
      const rateLimit = options.rateLimit === undefined ? undefined : surface.parseRateLimit(options.rateLimit, '--rate-limit');
      const limits = readServeLimits(options);
      await withSession(
        command.optsWithGlobals(),
        async (session) => {
          const { engine } = session;
          const { listening, openServerRuntime } = await import('../../engine/runtime.ts');
          let app: ApiServer | undefined;
          // What tenants may make this server do (DESIGN.md, trust boundaries); the operator's CA is not limited.
          engine.limits = new TenantLimits({ ...limits.tenants, operatorCaUrls: [engine.issuer.caUrl], log: (details, message) => app?.log.warn(details, message) });
          const logger = session.config.json ? false : { level: session.config.debug ? 'debug' : 'info' };
          const api = await surface.build(engine, { logger, rateLimit, connections: limits.connections, trustProxy: limits.trustProxy });
          app = api;
          // The server's log is JSON, one line per event: what the engine reports goes there with what it is about, never as a plain line.
          engine.progress = (message, about) => api.log.info({ ...about }, message);
          engine.notice = (message) => api.log.info({}, message);
          let runtime: Awaited<ReturnType<typeof openServerRuntime>> | undefined;
          let address: string;
          try {
            runtime = await openServerRuntime(engine, {
              workers: concurrency,
              leaseMs,
              renewEveryMs,
              retentionDays,
              httpChallenge: challenge,
              tlsAlpnChallenge: tlsAlpn,
              dns: options.dnsListen ? { listen: options.dnsListen, zone: options.dnsZone! } : undefined,
              metrics,
              smtp: session.config.smtp,
              deployOverdueMs,
              log: api.log,
              afterStep: crashSeam(),
            });
            // The API last: its "listening" log line then means that serve is up.
            address = await listening('listen', options.listen, () => api.listen(host, port));
          } catch (error) {
            await runtime?.stop().catch(() => {});
            await api.close().catch(() => {});
            await engine.limits.close().catch(() => {});
            throw error;
          }
          runtime.start();
          const started = { listening: address, httpChallenge: runtime.httpChallenge, tlsAlpnChallenge: runtime.tlsAlpnChallenge, dns: runtime.dns, metrics: runtime.metrics };
          const line = [
            `certkeep serving on ${address}`,
            runtime.httpChallenge ? `; HTTP-01 on ${runtime.httpChallenge}` : '',
            runtime.tlsAlpnChallenge ? `; TLS-ALPN-01 on ${runtime.tlsAlpnChallenge}` : '',
            runtime.dns ? `; challenge DNS for ${options.dnsZone} on ${runtime.dns}` : '',
            runtime.metrics ? `; metrics on http://${runtime.metrics}/metrics` : '',
          ].join('');
          // With a log, the start is one of its JSON lines; with --json (no log), the one result document.
          if (logger) api.log.info(started, line);
          else session.output.result(started, line);
          await signalled();
          // Stop taking work, let the orders in flight finish (or park them at their
          // stored step), finish the requests in flight, then close the store.
          await runtime.stop();
          await api.close();
          await engine.limits.close();
        },
        { answers: 'server', tlsAlpnListener: tlsAlpn !== undefined, create: true },
      );
    });
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
