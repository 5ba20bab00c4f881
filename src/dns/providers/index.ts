// The one table of DNS-01 providers, by name (as lego does). A new provider is
// a folder beside these, with its definition added to the list below.
import { ProviderSettingsError, type DnsProvider, type ProviderDefinition, type ZoneConfig } from '../provider.ts';
import { delegatedProvider } from './delegated/delegated.ts';
import { execProvider } from './exec/exec.ts';
import { powerdnsProvider } from './powerdns/powerdns.ts';
import { rfc2136 } from './rfc2136/rfc2136.ts';

const definitions: ProviderDefinition[] = [rfc2136, powerdnsProvider, execProvider, delegatedProvider];

export const providers: ReadonlyMap<string, ProviderDefinition> = new Map(
  definitions.map((definition) => [definition.name, definition]),
);

export function getProviderDefinition(name: string): ProviderDefinition {
  const definition = providers.get(name);
  if (!definition) {
    throw new ProviderSettingsError(`unknown DNS provider "${name}"; known providers: ${[...providers.keys()].join(', ')}`);
  }
  return definition;
}

/** The provider of that name for a zone; its definition checks the settings. */
export function createProvider(name: string, config: ZoneConfig): DnsProvider {
  return getProviderDefinition(name).create(config);
}
