// The one table of DNS-01 providers, by name (as lego does).
import { delegatedProvider } from './delegated.ts';
import { execProvider } from './exec.ts';
import { powerdnsProvider } from './powerdns.ts';
import type { DnsProvider, ProviderDefinition, ZoneConfig } from './provider.ts';
import { rfc2136 } from './rfc2136.ts';

const definitions: ProviderDefinition[] = [rfc2136, powerdnsProvider, execProvider, delegatedProvider];

export const providers: ReadonlyMap<string, ProviderDefinition> = new Map(
  definitions.map((definition) => [definition.name, definition]),
);

export function getProviderDefinition(name: string): ProviderDefinition {
  const definition = providers.get(name);
  if (!definition) {
    throw new Error(`unknown DNS provider "${name}"; known providers: ${[...providers.keys()].join(', ')}`);
  }
  return definition;
}

/** Checks the required settings, then creates the provider (which checks the rest). */
export function createProvider(name: string, config: ZoneConfig): DnsProvider {
  const definition = getProviderDefinition(name);
  const missing = Object.keys(definition.required).filter((setting) => !config.settings[setting]);
  if (missing.length > 0) {
    const details = missing.map((setting) => `"${setting}" (${definition.required[setting]})`).join(', ');
    throw new Error(`${name} zone ${config.zone}: missing setting ${details}`);
  }
  return definition.create(config);
}
