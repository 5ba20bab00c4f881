// The `delegated` DNS-01 provider: instead of editing the user's zone, it
// keeps challenge values where certkeep's own challenge DNS server (server.ts)
// reads them: the store, in the engine (every instance answers every order),
// or a map in memory. The user creates, once per name, the CNAME
// `_acme-challenge.<name>` → `<label>.<delegation zone>` that delegationTarget() tells.
import { createHash } from 'node:crypto';
import { base32 } from '../../../base32.ts';
import { type DnsProvider, type ProviderDefinition, requireSettings, type TxtRecord } from '../../provider.ts';
import type { ChallengeRecordSource } from './server.ts';

/** Challenge values by owner name under the delegation zone (lower case, no trailing dot), in memory. */
export type ChallengeValues = Map<string, Set<string>>;

/** Where the provider keeps the values and the server reads them; owners are lower case, without a trailing dot. */
export interface ChallengeValueStore {
  add(owner: string, value: string): Promise<void>;
  remove(owner: string, value: string): Promise<void>;
  values(owner: string): Promise<string[]>;
}

/** The process-wide values the registered `delegated` provider writes and `certkeep serve`'s DNS server reads. */
export const challengeValues: ChallengeValues = new Map();

const CHALLENGE_LABEL = '_acme-challenge.';

/**
 * The CNAME to create for `name` (a domain, `*.` allowed: a wildcard validates at its base
 * domain, RFC 8555 §8.4): `_acme-challenge.<name>` → `<16 base32 chars of sha256(name)>.<zone>`.
 * Deterministic, so the user creates it once and every renewal reuses it.
 */
export function delegationTarget(name: string, zone: string): { record: string; target: string } {
  const domain = normalizeName(name).replace(/^\*\./, '');
  const digest = createHash('sha256').update(domain).digest();
  return {
    record: `${CHALLENGE_LABEL}${domain}`,
    target: `${base32(digest.subarray(0, 10))}.${normalizeName(zone)}`,
  };
}

/** The values of one process, in a map. */
export function memoryChallengeValues(values: ChallengeValues): ChallengeValueStore {
  return {
    async add(owner, value) {
      const set = values.get(owner) ?? new Set<string>();
      set.add(value);
      values.set(owner, set);
    },
    async remove(owner, value) {
      const set = values.get(owner);
      set?.delete(value);
      if (set?.size === 0) values.delete(owner);
    },
    async values(owner) {
      return [...(values.get(owner) ?? [])];
    },
  };
}

function valueStore(values: ChallengeValues | ChallengeValueStore): ChallengeValueStore {
  return values instanceof Map ? memoryChallengeValues(values) : values;
}

/** Lets the challenge DNS server read the values the provider keeps. */
export function challengeRecordSource(values: ChallengeValues | ChallengeValueStore): ChallengeRecordSource {
  const store = valueStore(values);
  return { txtValues: (fqdn) => store.values(normalizeName(fqdn)) };
}

export function createDelegatedProvider(values: ChallengeValues | ChallengeValueStore, delegationZone: string): DnsProvider {
  const zone = normalizeName(delegationZone);
  const store = valueStore(values);
  return {
    async present(record) {
      await store.add(ownerFor(record, zone), record.value);
    },
    async cleanup(record) {
      await store.remove(ownerFor(record, zone), record.value);
    },
  };
}

/** A registry entry over `values`; tests pass their own map, the registry uses {@link delegatedProvider}. */
export function delegatedProviderFor(values: ChallengeValues): ProviderDefinition {
  const definition: ProviderDefinition = {
    name: 'delegated',
    description:
      "certkeep's own challenge DNS server answers; you CNAME _acme-challenge.<name> to it once (acme-dns style)",
    required: {
      delegationZone: 'the zone delegated (NS) to certkeep’s challenge DNS server, e.g. acme.example.net',
    },
    optional: {
      listen: "where certkeep's challenge DNS server listens while certkeep issues (the CLI), host:port",
    },
    secrets: [],
    create: (config) => createDelegatedProvider(values, requireSettings(definition, config).delegationZone),
  };
  return definition;
}

export const delegatedProvider: ProviderDefinition = delegatedProviderFor(challengeValues);

/** Where the server must answer for this challenge record. */
function ownerFor(record: TxtRecord, zone: string): string {
  const fqdn = normalizeName(record.fqdn);
  if (fqdn === zone || fqdn.endsWith(`.${zone}`)) return fqdn; // the caller already followed the CNAME
  if (!fqdn.startsWith(CHALLENGE_LABEL)) {
    throw new Error(
      `delegated DNS provider: ${record.fqdn} is not an _acme-challenge name and not under ${zone}`,
    );
  }
  return delegationTarget(fqdn.slice(CHALLENGE_LABEL.length), zone).target;
}

function normalizeName(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}

