// The `powerdns` DNS-01 provider, over the PowerDNS Authoritative HTTP API
// (`/api/v1/servers/{serverId}/zones/{zone.}`, header X-API-Key).
// A PATCH with changetype REPLACE sets the whole RRset, so to keep other
// values at the name (apex + wildcard share `_acme-challenge.<domain>`) we
// read the RRset first and write back old values plus or minus ours.
import { fetch, type Response } from 'undici';
import { type DnsProvider, type OutboundLimits, type ProviderDefinition, ProviderSettingsError, requireSettings, type TxtRecord } from '../../provider.ts';

export interface PowerDnsProviderOptions {
  /** Base URL of the API, e.g. `http://127.0.0.1:8081` (a trailing `/api/v1` is accepted). */
  apiUrl: string;
  apiKey: string;
  /** Default `localhost`, the only id PowerDNS Authoritative knows. */
  serverId?: string;
  /** Zone apex as PowerDNS holds it, lower case, no trailing dot. */
  zone: string;
  /** Per request; default 30 s. */
  timeoutMs?: number;
  /** The caller limits where requests go (the server, for a tenant's zone). */
  outbound?: OutboundLimits;
}

const DEFAULT_SERVER_ID = 'localhost';
const DEFAULT_TTL = 60;
const DEFAULT_TIMEOUT_MS = 30_000;

interface RrsetRecord {
  content: string;
  disabled: boolean;
}

interface TxtRrset {
  ttl: number;
  records: RrsetRecord[];
}

export function createPowerDnsProvider(settings: PowerDnsProviderOptions): DnsProvider {
  const options = { ...settings, zone: settings.zone.toLowerCase().replace(/\.$/, '') };
  const api = new PowerDnsZoneApi(options);
  const change = async (
    record: TxtRecord,
    edit: (records: RrsetRecord[], content: string) => RrsetRecord[],
  ) => {
    const name = ownerName(record.fqdn, options.zone);
    return serialized(`${api.zoneUrl} ${name}`, async () => {
      const current = await api.readTxt(name);
      const content = quoteTxt(record.value);
      const records = edit(current?.records ?? [], content);
      if (records.length === (current?.records.length ?? 0)) return; // nothing to add or remove
      await api.writeTxt(name, current?.ttl ?? DEFAULT_TTL, records);
    });
  };
  return {
    present: (record) =>
      change(record, (records, content) =>
        records.some((r) => sameTxt(r.content, content))
          ? records
          : [...records, { content, disabled: false }],
      ),
    cleanup: (record) =>
      change(record, (records, content) => records.filter((r) => !sameTxt(r.content, content))),
  };
}

export const powerdnsProvider: ProviderDefinition = {
  name: 'powerdns',
  description: 'PowerDNS Authoritative through its HTTP API (api=yes, webserver=yes)',
  required: {
    apiUrl: 'base URL of the PowerDNS API, e.g. http://127.0.0.1:8081',
    apiKey: 'the api-key from pdns.conf',
  },
  optional: { serverId: `server id in the API path (default ${DEFAULT_SERVER_ID})` },
  secrets: ['apiKey'],
  create(config) {
    const settings = requireSettings(powerdnsProvider, config);
    return createPowerDnsProvider({
      apiUrl: apiUrlSetting(settings.apiUrl),
      apiKey: settings.apiKey,
      serverId: settings.serverId?.trim() || undefined,
      zone: config.zone,
      outbound: config.outbound,
    });
  },
};

function apiUrlSetting(text: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    // refused below
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new ProviderSettingsError('powerdns DNS provider: the setting apiUrl must be an http:// or https:// URL, e.g. http://127.0.0.1:8081', 'apiUrl');
  }
  return text;
}

/** The zone's endpoint, with errors that say what failed and what to check. */
class PowerDnsZoneApi {
  readonly zoneUrl: string;
  readonly #options: PowerDnsProviderOptions;
  readonly #base: string;

  constructor(options: PowerDnsProviderOptions) {
    this.#options = options;
    this.#base = options.apiUrl.replace(/\/+$/, '').replace(/\/api\/v1$/, '');
    const server = encodeURIComponent(options.serverId ?? DEFAULT_SERVER_ID);
    this.zoneUrl = `${this.#base}/api/v1/servers/${server}/zones/${encodeURIComponent(`${options.zone}.`)}`;
  }

  /** The TXT RRset at `name` (with trailing dot), or undefined when there is none. */
  async readTxt(name: string): Promise<TxtRrset | undefined> {
    // PowerDNS 4.7 filters by rrset_name/rrset_type; a server that ignores them sends the whole zone, so filter here too.
    const query = new URLSearchParams({ rrset_name: name, rrset_type: 'TXT' });
    const zone = (await this.#call('GET', `${this.zoneUrl}?${query}`)) as {
      rrsets?: { name: string; type: string; ttl: number; records: RrsetRecord[] }[];
    };
    const rrset = zone.rrsets?.find((r) => r.type === 'TXT' && r.name.toLowerCase() === name);
    return rrset ? { ttl: rrset.ttl, records: rrset.records } : undefined;
  }

  async writeTxt(name: string, ttl: number, records: RrsetRecord[]): Promise<void> {
    const rrset =
      records.length > 0
        ? { name, type: 'TXT', ttl, changetype: 'REPLACE', records }
        : { name, type: 'TXT', changetype: 'DELETE' };
    await this.#call('PATCH', this.zoneUrl, { rrsets: [rrset] });
  }

  async #call(method: string, url: string, body?: unknown): Promise<unknown> {
    const { apiKey, outbound } = this.#options;
    const timeoutMs = outbound?.timeoutMs ?? this.#options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: { 'X-API-Key': apiKey, Accept: 'application/json', 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
        ...(outbound ? { dispatcher: outbound.dispatcher, redirect: 'error' as const } : {}),
      });
    } catch (error) {
      throw this.#unreachable(error, timeoutMs);
    }
    const text = await response.text();
    if (!response.ok) throw this.#failure(response.status, apiErrorText(text));
    try {
      return text ? JSON.parse(text) : undefined;
    } catch {
      const at = displayUrl(this.#base);
      throw new Error(
        `PowerDNS API at ${at} answered ${method} with something that is not JSON — check --api-url`,
      );
    }
  }

  #unreachable(error: unknown, timeoutMs: number): Error {
    const where = `PowerDNS API at ${displayUrl(this.#base)}`;
    const { outbound } = this.#options;
    if (outbound) return new Error(`cannot reach the ${where}: ${outbound.explain(error)}`, { cause: error });
    if (error instanceof DOMException && error.name === 'TimeoutError') {
      return new Error(`${where} did not answer within ${timeoutMs / 1000} s`, { cause: error });
    }
    const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
    const reason = cause?.code ?? cause?.message ?? (error as Error).message;
    return new Error(
      `cannot reach ${where} (${reason}) — check --api-url and that pdns runs with api=yes and webserver=yes`,
      { cause: error },
    );
  }

  #failure(status: number, apiText: string): Error {
    const at = displayUrl(this.#base);
    const detail = `(HTTP ${status}${apiText ? `: ${apiText}` : ''})`;
    if (status === 401 || status === 403) {
      return new Error(`PowerDNS API at ${at} rejected the API key ${detail} — check --api-key`);
    }
    if (status === 404 || (status === 422 && /could not find domain/i.test(apiText))) {
      const server = this.#options.serverId ?? DEFAULT_SERVER_ID;
      return new Error(
        `zone ${this.#options.zone} does not exist on PowerDNS at ${at} (server id ${server}) ${detail} — ` +
          'create the zone there, or check the zone name and --server-id',
      );
    }
    return new Error(`PowerDNS API at ${at} refused the change to zone ${this.#options.zone} ${detail}`);
  }
}

/** The owner name as PowerDNS writes it: lower case with a trailing dot. */
function ownerName(fqdn: string, zone: string): string {
  const name = fqdn.toLowerCase().replace(/\.$/, '');
  if (name !== zone && !name.endsWith(`.${zone}`)) {
    throw new Error(`powerdns DNS provider: ${fqdn} is not inside the zone ${zone}`);
  }
  return `${name}.`;
}

/** TXT content in zone-file form, as the API wants it (RFC 1035 §5.1 quoting). */
function quoteTxt(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

/** Compares TXT contents by their text, so `"a" "b"` equals `"ab"`. */
function sameTxt(a: string, b: string): boolean {
  return txtText(a) === txtText(b);
}

function txtText(content: string): string {
  const strings = [...content.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1].replace(/\\(.)/g, '$1'));
  return strings.length > 0 ? strings.join('') : content;
}

function apiErrorText(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: string };
    if (typeof parsed.error === 'string') return parsed.error;
  } catch {
    // not JSON: PowerDNS answers some errors as plain text
  }
  return text.trim().slice(0, 200);
}

/** The URL without credentials someone may have put into it. */
function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

// Present and cleanup for the same name may run together (apex + wildcard);
// read-modify-write must not interleave or one value is lost. Within one process.
const queues = new Map<string, Promise<unknown>>();

function serialized<T>(key: string, task: () => Promise<T>): Promise<T> {
  const previous = queues.get(key) ?? Promise.resolve();
  const current = previous.then(task); // previous never rejects: see settled
  const settled = current.catch(() => {});
  queues.set(key, settled);
  void settled.then(() => {
    if (queues.get(key) === settled) queues.delete(key);
  });
  return current;
}
