// Managed DNS zones: where DNS-01 records are written, with credentials
// encrypted at rest and never shown again.
import { randomBytes } from 'node:crypto';
import { addressText, parseAddress } from '../address.ts';
import type { ZoneHandle } from '../challenges/dns01.ts';
import { type ChallengeValueStore, challengeRecordSource, createDelegatedProvider, delegationTarget } from '../dns/providers/delegated/delegated.ts';
import { type ChallengeRecordSource, type DelegatedDnsServer, startDelegatedDnsServer } from '../dns/providers/delegated/server.ts';
import { waitForTxt } from '../dns/propagation.ts';
import { requireSettings } from '../dns/provider.ts';
import { createProvider, getProviderDefinition, providers } from '../dns/providers/index.ts';
import { newId } from '../store/ids.ts';
import { deleteDelegatedValue, findDelegatedValues, putDelegatedValue } from '../store/repositories/delegated-values.ts';
import { deleteZone, findZone, insertZone, listZones, openZoneSettings, sealZoneSettings, type ZoneRow } from '../store/repositories/zones.ts';
import type { EngineContext } from './context.ts';
import { asCertkeepError } from './failures.ts';
import { checkTenantZone, openTenantZone } from '../outbound/tenant-limits.ts';
import { ConflictError, NotFoundError, UsageError } from '../errors.ts';

export interface ZoneSpec {
  zone: string;
  provider: string;
  settings: Record<string, string>;
  nameservers?: string[];
}

export interface ZoneSummary {
  zone: string;
  provider: string;
  nameservers: string[];
  /** Settings with secret values replaced by "(set)". */
  settings: Record<string, string>;
  /** For delegated zones: the CNAME to create at the user's DNS. */
  delegation?: { record: string; target: string };
}

export async function addZone(ctx: EngineContext, subscriptionId: string, spec: ZoneSpec): Promise<ZoneSummary> {
  const zone = normalizeZone(spec.zone);
  const settings = Object.fromEntries(Object.entries(spec.settings).filter(([, value]) => value !== undefined && value !== ''));
  // First the settings the provider needs, then what the server's operator allows tenants, then the provider's own checks.
  checkProvider(() => requireSettings(getProviderDefinition(spec.provider), { zone, settings }), zone);
  const nameservers = (spec.nameservers ?? []).map((server) => addressText(parseAddress(server, 'nameservers', 53)));
  if (ctx.limits) await checkTenantZone(ctx.limits, { provider: spec.provider, settings, nameservers });
  checkProvider(() => createProvider(spec.provider, { zone, settings }), zone);
  if (await findZone(ctx.store.db, subscriptionId, zone)) {
    throw new UsageError(`zone: ${zone} is already managed; remove it first`, 'zone');
  }
  const id = newId('zone');
  const row: ZoneRow = {
    id,
    subscription_id: subscriptionId,
    zone,
    provider: spec.provider,
    config_enc: sealZoneSettings(ctx.store.secrets, id, settings),
    nameservers,
    created_at: ctx.clock.now(),
  };
  await insertZone(ctx.store.db, row);
  return summarize(ctx, row);
}

/** A check of the provider's (dns/providers), refused by the setting it is about. */
function checkProvider(check: () => unknown, zone: string): void {
  try {
    check();
  } catch (error) {
    throw asCertkeepError(error) ?? new UsageError(`provider: zone ${zone}: ${(error as Error).message}`, 'provider');
  }
}

export async function listManagedZones(ctx: EngineContext, subscriptionId: string): Promise<ZoneSummary[]> {
  return (await listZones(ctx.store.db, subscriptionId)).map((row) => summarize(ctx, row));
}

export async function removeZone(ctx: EngineContext, subscriptionId: string, zone: string): Promise<void> {
  const row = await findZone(ctx.store.db, subscriptionId, normalizeZone(zone));
  if (!row) throw new NotFoundError(`zone ${zone} is not managed`);
  await deleteZone(ctx.store.db, row.id);
}

/**
 * Opens zones for DNS-01: providers are created once per zone, and certkeep's
 * own challenge DNS server is started when a delegated zone asks for it.
 */
export class ZoneDirectory {
  readonly #ctx: EngineContext;
  readonly #subscriptionId: string;
  readonly #handles = new Map<string, ZoneHandle>();
  readonly #delegatedValues: ChallengeValueStore;
  readonly #servers = new Map<string, Promise<DelegatedDnsServer>>();

  constructor(ctx: EngineContext, subscriptionId: string, delegatedValues: ChallengeValueStore = storedChallengeValues(ctx, subscriptionId)) {
    this.#ctx = ctx;
    this.#subscriptionId = subscriptionId;
    this.#delegatedValues = delegatedValues;
  }

  /** The managed zone with the longest suffix of `recordName`. */
  async zoneFor(recordName: string, domain: string): Promise<ZoneHandle> {
    const row = holdingZone(await listZones(this.#ctx.store.db, this.#subscriptionId), recordName);
    if (!row) {
      throw new ConflictError(
        `no managed zone holds ${recordName} (for ${domain}); manage the zone that holds it (certkeep zone add, or POST /api/v1/zones) with a provider: ${[...providers.keys()].join(', ')}`,
      );
    }
    let handle = this.#handles.get(row.id);
    if (!handle) {
      const settings = openZoneSettings(this.#ctx.store.secrets, row);
      const stored = row.nameservers;
      const { limits } = this.#ctx;
      // In the server only `serve --dns-listen` opens the challenge DNS server, never a stored setting.
      if (!limits && row.provider === 'delegated' && settings.listen) await this.#serve(settings.delegationZone, settings.listen);
      const opened = limits
        ? await openTenantZone(limits, row.provider, row.zone, settings, stored)
        : { provider: createProvider(row.provider, { zone: row.zone, settings }), nameservers: stored };
      handle = {
        zone: row.zone,
        // A delegated zone's values go where every challenge DNS server reads them (storedChallengeValues).
        provider: row.provider === 'delegated' ? createDelegatedProvider(this.#delegatedValues, settings.delegationZone) : opened.provider,
        providerName: row.provider,
        nameservers: opened.nameservers,
        ...(row.provider === 'delegated' ? { delegationTarget: (domain: string) => delegationTarget(domain, settings.delegationZone).target } : {}),
      };
      this.#handles.set(row.id, handle);
    }
    return handle;
  }

  async close(): Promise<void> {
    const servers = await Promise.allSettled(this.#servers.values());
    this.#servers.clear();
    this.#handles.clear();
    await Promise.allSettled(servers.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
  }

  #serve(zone: string, listen: string): Promise<DelegatedDnsServer> {
    let server = this.#servers.get(listen);
    if (!server) {
      server = startDelegatedDnsServer({ listen, zone, records: challengeRecordSource(this.#delegatedValues) });
      this.#servers.set(listen, server);
    }
    return server;
  }
}

/** How long a delegated value is answered at most: a pending authorization lives about a week (Let's Encrypt: 7 days). */
const DELEGATED_VALUE_LIFETIME_MS = 8 * 86_400_000;

/**
 * A subscription's delegated zones' challenge values in the store: written by
 * whichever instance runs the order, read by every instance's challenge DNS
 * server (storedChallengeAnswers). Values a killed run left behind stop being
 * answered, and are removed, after their lifetime.
 */
export function storedChallengeValues(ctx: EngineContext, subscriptionId: string): ChallengeValueStore {
  return {
    add: (owner, value) => {
      const now = ctx.clock.now();
      return putDelegatedValue(ctx.store.db, subscriptionId, owner, value, now, now - DELEGATED_VALUE_LIFETIME_MS);
    },
    remove: (owner, value) => deleteDelegatedValue(ctx.store.db, owner, value),
    values: (owner) => findDelegatedValues(ctx.store.db, owner, ctx.clock.now() - DELEGATED_VALUE_LIFETIME_MS),
  };
}

/** What the challenge DNS server answers: the values every subscription's delegated zones stored. */
export function storedChallengeAnswers(ctx: EngineContext): ChallengeRecordSource {
  return { txtValues: (fqdn) => findDelegatedValues(ctx.store.db, fqdn.toLowerCase().replace(/\.$/, ''), ctx.clock.now() - DELEGATED_VALUE_LIFETIME_MS) };
}

/** Of `zones`, the one with the longest suffix of `recordName` (the zone it is written in), if any. */
export function holdingZone<T extends { zone: string }>(zones: T[], recordName: string): T | undefined {
  const name = recordName.toLowerCase();
  return zones.filter((z) => name === z.zone || name.endsWith(`.${z.zone}`)).sort((a, b) => b.zone.length - a.zone.length)[0];
}

/** `certkeep zone test`: writes a TXT record, waits until every authoritative server has it, removes it. */
export async function testZone(
  ctx: EngineContext,
  subscriptionId: string,
  zone: string,
  options: { resolvers?: string[]; timeoutMs?: number },
): Promise<{ fqdn: string; elapsedMs: number }> {
  const directory = new ZoneDirectory(ctx, subscriptionId);
  try {
    return await writeTestRecord(directory, zone, options);
  } finally {
    await directory.close();
  }
}

async function writeTestRecord(
  directory: ZoneDirectory,
  zone: string,
  options: { resolvers?: string[]; timeoutMs?: number },
): Promise<{ fqdn: string; elapsedMs: number }> {
  const handle = await directory.zoneFor(normalizeZone(zone), zone);
  const fqdn = `_certkeep-test-${randomBytes(4).toString('hex')}.${handle.zone}`;
  const value = randomBytes(16).toString('base64url');
  const started = performance.now();
  await handle.provider.present({ fqdn, value });
  try {
    if (handle.providerName !== 'delegated') {
      await waitForTxt(fqdn, value, {
        nameservers: handle.nameservers.length > 0 ? handle.nameservers : undefined,
        resolvers: options.resolvers,
        timeoutMs: options.timeoutMs,
      });
    }
  } finally {
    await handle.provider.cleanup({ fqdn, value });
  }
  return { fqdn, elapsedMs: performance.now() - started };
}

function summarize(ctx: EngineContext, row: ZoneRow): ZoneSummary {
  const settings = openZoneSettings(ctx.store.secrets, row);
  const secrets = new Set(providers.get(row.provider)?.secrets ?? []);
  const shown = Object.fromEntries(Object.entries(settings).map(([k, v]) => [k, secrets.has(k) ? '(set)' : withoutCredentials(v)]));
  return {
    zone: row.zone,
    provider: row.provider,
    nameservers: row.nameservers,
    settings: shown,
    ...(row.provider === 'delegated' ? { delegation: delegationTarget(row.zone, settings.delegationZone) } : {}),
  };
}

/** A URL setting (an API's address) is shown without a user name and password someone put in it. */
function withoutCredentials(value: string): string {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i.exec(value);
  return match ? `${match[1]}(credentials hidden)@${value.slice(match[0].length)}` : value;
}

function normalizeZone(zone: string): string {
  const normalized = zone.trim().toLowerCase().replace(/\.$/, '');
  if (!/^[a-z0-9_]([a-z0-9_-]*[a-z0-9])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9])?)*$/.test(normalized)) {
    throw new UsageError(`zone: "${zone}" is not a DNS zone name like example.com`, 'zone');
  }
  const long = normalized.split('.').find((label) => label.length > 63);
  if (long) throw new UsageError(`zone: the label "${long}" is ${long.length} characters long; DNS allows at most 63`, 'zone');
  return normalized;
}


export interface ProviderSetting {
  name: string;
  description: string;
  required: boolean;
  /** Written once, never shown back. */
  secret: boolean;
}

export interface ProviderDescription {
  name: string;
  description: string;
  settings: ProviderSetting[];
}

/** Each DNS provider and its settings, from the provider's own definition: what the portal's zone form is drawn from. */
export function describeProviders(): ProviderDescription[] {
  return [...providers.values()].map((definition) => {
    const secrets = new Set(definition.secrets);
    const setting = (required: boolean) => ([name, description]: [string, string]) => ({ name, description, required, secret: secrets.has(name) });
    return {
      name: definition.name,
      description: definition.description,
      settings: [...Object.entries(definition.required).map(setting(true)), ...Object.entries(definition.optional).map(setting(false))],
    };
  });
}

/**
 * A zone's test for the API and the portal: writes a TXT record, waits until
 * every authoritative server has it, removes it. A failure is an answer, not an error.
 */
export async function testManagedZone(
  ctx: EngineContext,
  subscriptionId: string,
  zone: string,
  options: { resolvers?: string[]; timeoutMs?: number },
): Promise<{ ok: true; fqdn: string; elapsedMs: number } | { ok: false; error: string }> {
  const row = await findZone(ctx.store.db, subscriptionId, normalizeZone(zone));
  if (!row) throw new NotFoundError(`zone ${zone} is not managed by this subscription; add it first`);
  try {
    const result = await testZone(ctx, subscriptionId, row.zone, options);
    return { ok: true, fqdn: result.fqdn, elapsedMs: Math.round(result.elapsedMs) };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}
