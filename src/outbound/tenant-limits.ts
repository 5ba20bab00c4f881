// What a tenant (an API key, a portal user) can make the server do (DESIGN.md,
// trust boundaries): run only the commands the operator listed (`serve
// --allow-exec`), open no listener, and reach only public addresses and the
// ranges the operator allowed (`serve --allow-outbound`). The CLI on the machine
// is the operator and has no such limits: an engine context carries these only
// in the server. Each rule is checked when a tenant hands something in (a clear
// 400) and again when the server acts on it (a row stored some other way must
// not get past).
import { normalize } from 'node:path';
import type { Agent } from 'undici';
import type { AcmeClientOptions } from '../acme/index.ts';
import type { DnsProvider, OutboundLimits } from '../dns/provider.ts';
import { createProvider } from '../dns/providers/index.ts';
import { formatServer, parseServer } from '../dns/transport.ts';
import { ConflictError, UsageError } from '../errors.ts';
import { guardConnector, guardedAgent } from '../outbound/connector.ts';
import { OutboundPolicy, OutboundRefusedError } from '../outbound/policy.ts';

/** How long one request to an address a tenant chose may take, connecting to the last byte. */
export const TENANT_REQUEST_TIMEOUT_MS = 10_000;

const UNREACHABLE = "no connection, no answer in time, or a TLS failure (the server's log has the cause)";

export type LimitLog = (details: Record<string, unknown>, message: string) => void;

export interface TenantLimitOptions {
  /** Absolute paths of the programs the exec DNS provider may run. */
  allowExec?: readonly string[];
  /** CIDRs tenants' URLs and DNS servers may reach besides public addresses. */
  allowOutbound?: readonly string[];
  /** ACME directory URLs the operator set (--ca): not limited. */
  operatorCaUrls?: readonly string[];
  /** The server's log, for what a tenant is not told (a hook's output, why a connection failed). */
  log?: LimitLog;
}

export class TenantLimits {
  readonly outbound: OutboundPolicy;
  readonly #allowExec: ReadonlySet<string>;
  readonly #operatorCas: ReadonlySet<string>;
  readonly #log: LimitLog;
  #agent: Agent | undefined;

  constructor(options: TenantLimitOptions = {}) {
    this.outbound = new OutboundPolicy(options.allowOutbound);
    this.#allowExec = new Set((options.allowExec ?? []).map((path) => normalize(path)));
    this.#operatorCas = new Set(options.operatorCaUrls ?? []);
    this.#log = options.log ?? (() => {});
  }

  mayRun(command: string): boolean {
    return command.startsWith('/') && this.#allowExec.has(normalize(command));
  }

  /** The operator's CA (--ca) is not limited: the operator chose it. */
  isOperatorCa(caUrl: string): boolean {
    return this.#operatorCas.has(caUrl);
  }

  /** The ACME client options for a CA: none for the operator's, checked connections and short waits for a tenant's. */
  acmeOptions(caUrl: string): Pick<AcmeClientOptions, 'guard' | 'requestTimeoutMs' | 'retry'> {
    if (this.isOperatorCa(caUrl)) return {};
    return {
      guard: { wrap: (base) => guardConnector(this.outbound, base), explain: (error, url) => this.explain(error, { url }) },
      requestTimeoutMs: TENANT_REQUEST_TIMEOUT_MS,
      retry: { attempts: 2 },
    };
  }

  /** For DNS providers that speak HTTP to a tenant's server. */
  providerOutbound(zone: string): OutboundLimits {
    this.#agent ??= guardedAgent(this.outbound, { connectTimeoutMs: TENANT_REQUEST_TIMEOUT_MS });
    return { dispatcher: this.#agent, timeoutMs: TENANT_REQUEST_TIMEOUT_MS, explain: (error) => this.explain(error, { zone }) };
  }

  /**
   * What a tenant is told when a request to its address failed: the policy's
   * refusal, or one sentence whatever the cause (refused, unknown name, TLS,
   * timeout) — telling them apart would make the server a port scanner. The
   * cause goes to the server's log.
   */
  explain(error: unknown, context: Record<string, unknown>): string {
    const refused = refusal(error);
    if (refused) return refused.message;
    this.log({ ...context, error: causes(error) }, 'a request to an address a tenant chose failed');
    return UNREACHABLE;
  }

  log(details: Record<string, unknown>, message: string): void {
    this.#log(details, message);
  }

  async close(): Promise<void> {
    await this.#agent?.close();
    this.#agent = undefined;
  }
}

const strictest = new TenantLimits();

/** The context's limits; without any (webhooks exist only for tenants), the strictest: public addresses only. */
export function tenantLimitsOf(ctx: { limits?: TenantLimits }): TenantLimits {
  return ctx.limits ?? strictest;
}

/** A CA directory a tenant names (not the operator's): refused when it is, or resolves only to, an address not allowed. */
export async function checkTenantCa(limits: TenantLimits, caUrl: string, field: string): Promise<void> {
  if (limits.isOperatorCa(caUrl)) return;
  await refuseWith(field, () => limits.outbound.check(new URL(caUrl).hostname));
}

/** A tenant's zone before it is stored: each refusal names the setting and what to do instead. */
export async function checkTenantZone(
  limits: TenantLimits,
  spec: { provider: string; settings: Record<string, string>; nameservers?: string[] },
): Promise<void> {
  const { settings } = spec;
  if (spec.provider === 'exec') {
    const command = settings.command?.trim() ?? '';
    if (command && !limits.mayRun(command)) {
      throw new UsageError(
        `settings.command: the server runs only the commands its operator allowed (certkeep serve --allow-exec PATH), and "${command}" is not one of them; ` +
          'ask the operator to allow it, or use the provider rfc2136, powerdns or delegated',
        'settings.command',
      );
    }
    if (settings.timeout !== undefined) {
      throw new UsageError("settings.timeout: how long a hook may run is the operator's choice; leave timeout out", 'settings.timeout');
    }
  }
  if (spec.provider === 'delegated' && settings.listen !== undefined) {
    throw new UsageError(
      "settings.listen: where the challenge DNS server listens is the operator's choice (certkeep serve --dns-listen); leave listen out",
      'settings.listen',
    );
  }
  if (spec.provider === 'powerdns' && settings.apiUrl) await checkApiUrl(limits, settings.apiUrl);
  if (spec.provider === 'rfc2136' && settings.server) await checkServer(limits, settings.server, 'settings.server');
  for (const server of spec.nameservers ?? []) await checkServer(limits, server, 'nameservers');
}

/**
 * The provider of a stored zone as the server runs it for a tenant: an exec
 * command must still be allowed (its timeout is the default, whatever is
 * stored), DNS servers are resolved and checked once and then used by address,
 * HTTP goes through the checked connections, and a hook's failure is told
 * without its output.
 */
export async function openTenantZone(
  limits: TenantLimits,
  provider: string,
  zone: string,
  stored: Record<string, string>,
  nameservers: string[],
): Promise<{ provider: DnsProvider; nameservers: string[] }> {
  const settings = { ...stored };
  if (provider === 'exec') {
    if (!limits.mayRun(settings.command?.trim() ?? '')) {
      throw new ConflictError(
        `zone ${zone}: its exec command is not one the server's operator allows (certkeep serve --allow-exec); ask the operator, or manage the zone with another provider`,
      );
    }
    delete settings.timeout;
  }
  if (provider === 'rfc2136' && settings.server) settings.server = await pinnedServer(limits, settings.server, zone);
  const pinned = await Promise.all(nameservers.map((server) => pinnedServer(limits, server, zone)));
  const created = createProvider(provider, { zone, settings, outbound: limits.providerOutbound(zone) });
  return { provider: provider === 'exec' ? quietHook(limits, zone, created) : created, nameservers: pinned };
}

/** A hook's output may hold anything of the server's: it goes to the log, the tenant hears that it failed. */
function quietHook(limits: TenantLimits, zone: string, hook: DnsProvider): DnsProvider {
  const quiet =
    (action: 'present' | 'cleanup') =>
    async (record: Parameters<DnsProvider['present']>[0]): Promise<void> => {
      try {
        await hook[action](record);
      } catch (error) {
        limits.log({ zone, action, error: (error as Error).message }, 'the exec DNS hook failed');
        throw new ConflictError(`the DNS hook of zone ${zone} failed (${action}); the server's operator has the details in its log`);
      }
    };
  return { present: quiet('present'), cleanup: quiet('cleanup'), close: hook.close?.bind(hook) };
}

async function checkApiUrl(limits: TenantLimits, text: string): Promise<void> {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    // refused below
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new UsageError('settings.apiUrl: not an http:// or https:// URL; give the PowerDNS API as e.g. https://pdns.example.com:8081', 'settings.apiUrl');
  }
  await refuseWith('settings.apiUrl', () => limits.outbound.check(url.hostname));
}

async function checkServer(limits: TenantLimits, text: string, field: string): Promise<void> {
  let host: string;
  try {
    host = parseServer(text).host;
  } catch {
    throw new UsageError(`${field}: "${text}" is not HOST:PORT, e.g. ns1.example.com:53`, field);
  }
  await refuseWith(field, () => limits.outbound.check(host));
}

async function pinnedServer(limits: TenantLimits, text: string, zone: string): Promise<string> {
  const server = parseServer(text);
  try {
    return formatServer({ host: (await limits.outbound.resolve(server.host)).address, port: server.port });
  } catch (error) {
    throw new ConflictError(`zone ${zone}: DNS server ${text}: ${limits.explain(error, { zone, server: text })}`);
  }
}

async function refuseWith(field: string, check: () => Promise<void>): Promise<void> {
  try {
    await check();
  } catch (error) {
    throw new UsageError(`${field}: ${(error as Error).message}`, field);
  }
}

/** The outbound refusal somewhere in an error's causes (fetch and undici wrap it). */
function refusal(error: unknown): OutboundRefusedError | undefined {
  for (let e = error; e instanceof Error; e = e.cause) if (e instanceof OutboundRefusedError) return e;
  return undefined;
}

function causes(error: unknown): string {
  const parts: string[] = [];
  for (let e = error; e instanceof Error && parts.length < 4; e = e.cause) {
    const code = (e as { code?: string }).code;
    parts.push(code && !e.message.includes(code) ? `${code}: ${e.message}` : e.message);
  }
  return parts.join(' ← ') || String(error);
}
