// DNS-01 (RFC 8555 §8.4): a TXT record at _acme-challenge.<name>, written by
// the zone's provider, checked on the zone's authoritative servers until all
// of them serve it — no fixed sleeps.
import type { DnsProvider } from '../dns/provider.ts';
import { resolveChallengeName, waitForTxt } from '../dns/propagation.ts';
import { ConflictError } from '../errors.ts';
import type { ChallengeSolver, ChallengeTask } from './solver.ts';

/** A managed zone, ready to write to. */
export interface ZoneHandle {
  zone: string;
  provider: DnsProvider;
  providerName: string;
  /** Servers to check propagation on; empty: the zone's authoritative servers. */
  nameservers: string[];
  /** Delegated zones: the CNAME the user must have created at _acme-challenge.<domain>. */
  delegationTarget?(domain: string): string;
}

export interface Dns01Options {
  /** The managed zone for a challenge record name (longest suffix), or an error that says how to add one. */
  zoneFor(recordName: string, domain: string): Promise<ZoneHandle>;
  /** Recursive resolvers for CNAME and NS discovery; default: the system's. */
  resolvers?: string[];
  propagationTimeoutMs?: number;
  /** Told how long each record took to reach every authoritative server (or how long it was waited for in vain). */
  onPropagation?: (provider: string, outcome: 'visible' | 'timeout', seconds: number) => void;
}

interface Placed {
  handle: ZoneHandle;
  fqdn: string;
}

export class Dns01Solver implements ChallengeSolver {
  readonly type = 'dns-01' as const;
  readonly #options: Dns01Options;
  readonly #placed = new Map<string, Promise<Placed>>();

  constructor(options: Dns01Options) {
    this.#options = options;
  }

  async present(task: ChallengeTask): Promise<void> {
    const placed = this.#placement(task);
    const { handle, fqdn } = await placed;
    await handle.provider.present({ fqdn, value: task.dnsValue });
  }

  async waitUntilVisible(task: ChallengeTask): Promise<void> {
    const { handle, fqdn } = await this.#placement(task);
    // certkeep's own challenge DNS server answers from where the provider wrote (the store): visible at once.
    if (handle.providerName === 'delegated') return;
    const started = performance.now();
    const told = (outcome: 'visible' | 'timeout') => this.#options.onPropagation?.(handle.providerName, outcome, (performance.now() - started) / 1000);
    try {
      await waitForTxt(fqdn, task.dnsValue, {
        nameservers: handle.nameservers.length > 0 ? handle.nameservers : undefined,
        resolvers: this.#options.resolvers,
        timeoutMs: this.#options.propagationTimeoutMs,
      });
    } catch (error) {
      told('timeout');
      throw error;
    }
    told('visible');
  }

  async cleanup(task: ChallengeTask): Promise<void> {
    const placed = this.#placed.get(task.token);
    if (!placed) return;
    this.#placed.delete(task.token);
    const { handle, fqdn } = await placed;
    await handle.provider.cleanup({ fqdn, value: task.dnsValue });
  }

  async close(): Promise<void> {
    this.#placed.clear();
  }

  /** The CA follows the CNAME to certkeep's server; without it, validation can only fail. */
  async #checkDelegation(domain: string, target: string): Promise<void> {
    const found = await resolveChallengeName(domain, { resolvers: this.#options.resolvers });
    if (found.toLowerCase() !== target.toLowerCase()) {
      throw new ConflictError(
        `dns-01 for ${domain}: _acme-challenge.${domain} must be a CNAME to ${target} (it ${found === `_acme-challenge.${domain}` ? 'has none' : `points to ${found}`}); create: _acme-challenge.${domain}. CNAME ${target}.`,
      );
    }
  }

  /** Where the record goes: _acme-challenge.<domain>, or where its CNAME points. */
  #placement(task: ChallengeTask): Promise<Placed> {
    let placed = this.#placed.get(task.token);
    if (!placed) {
      placed = this.#locate(task);
      this.#placed.set(task.token, placed);
      placed.catch(() => this.#placed.delete(task.token));
    }
    return placed;
  }

  async #locate(task: ChallengeTask): Promise<Placed> {
    const domain = task.identifier.value;
    const direct = `_acme-challenge.${domain}`;
    const handle = await this.#options.zoneFor(direct, domain);
    if (handle.delegationTarget) {
      await this.#checkDelegation(domain, handle.delegationTarget(domain));
      return { handle, fqdn: direct };
    }
    const fqdn = await resolveChallengeName(domain, {
      resolvers: this.#options.resolvers,
      nameservers: handle.nameservers.length > 0 ? handle.nameservers : undefined,
    });
    return { handle: fqdn === direct ? handle : await this.#options.zoneFor(fqdn, domain), fqdn };
  }
}
