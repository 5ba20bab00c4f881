// The seam between DNS-01 and the DNS servers that hold a zone: a provider
// puts one TXT value at a name and takes exactly that value away again.
// Each provider lives in its own folder under providers/ and registers by name
// in providers/index.ts (one table, as lego does).
import type { Dispatcher } from 'undici';

/** One TXT value at one name. `fqdn` has no trailing dot, e.g. `_acme-challenge.example.test`. */
export interface TxtRecord {
  fqdn: string;
  value: string;
}

export interface DnsProvider {
  /** Adds `value` to the TXT RRset at `fqdn`, keeping any other values there (apex + wildcard need two). */
  present(record: TxtRecord): Promise<void>;
  /** Removes exactly `value` from the TXT RRset at `fqdn`; a value that is already gone is not an error. */
  cleanup(record: TxtRecord): Promise<void>;
  /** Releases sockets, timers and servers, if the provider holds any. */
  close?(): Promise<void>;
}

/** What a stored zone gives its provider: the zone apex and the provider's own settings. */
export interface ZoneConfig {
  zone: string; // lower case, no trailing dot
  settings: Record<string, string>;
  /** Given when the caller limits where the provider's HTTP requests may go (the server, for a tenant's zone). */
  outbound?: OutboundLimits;
}

/** How a provider that speaks HTTP connects for a tenant: through `dispatcher`, for at most `timeoutMs` a request. */
export interface OutboundLimits {
  dispatcher: Dispatcher;
  timeoutMs: number;
  /** What to tell the tenant when a request got no answer, instead of its cause (which may be logged). */
  explain(error: unknown): string;
}

/**
 * A provider's settings, described as data (help text, forms, redaction), and
 * how it is created from them. `create` checks the settings, each once.
 */
export interface ProviderDefinition {
  name: string;
  /** A line for `certkeep zone add --help` and error messages. */
  description: string;
  /** Setting names that must be present, with what each is for. */
  required: Record<string, string>;
  optional: Record<string, string>;
  /** Settings whose values are secrets: never printed back. */
  secrets: string[];
  create(config: ZoneConfig): DnsProvider;
}

/** A zone's settings do not fit its provider; `setting` names the one at fault (none: the provider itself). */
export class ProviderSettingsError extends Error {
  readonly setting: string | undefined;
  constructor(message: string, setting?: string) {
    super(message);
    this.name = 'ProviderSettingsError';
    this.setting = setting;
  }
}

/**
 * The settings with every required one present (and trimmed), as the
 * definition describes them; the first missing one is refused with what it is for.
 */
export function requireSettings(definition: Omit<ProviderDefinition, 'create'>, config: ZoneConfig): Record<string, string> {
  const settings = { ...config.settings };
  for (const [name, purpose] of Object.entries(definition.required)) {
    const value = settings[name]?.trim();
    if (!value) {
      throw new ProviderSettingsError(
        `${definition.name} zone ${config.zone}: missing setting "${name}" (${purpose}); the ${definition.name} DNS provider needs the setting ${name}`,
        name,
      );
    }
    settings[name] = value;
  }
  return settings;
}
