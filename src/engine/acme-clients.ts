import { AcmeClient, type AcmeClientOptions, type AcmeClock } from '../acme/index.ts';

/**
 * One AcmeClient per account, so that connections and nonces are reused across orders.
 * The clients tell time by the engine's clock: a CA's Retry-After (renewalInfo, rate
 * limits) must be read on the same clock the planner compares it with.
 */
export class AcmeClients {
  readonly #clients = new Map<string, AcmeClient>();
  readonly #clock: AcmeClock | undefined;

  constructor(clock?: AcmeClock) {
    this.#clock = clock;
  }

  forAccount(accountId: string, options: AcmeClientOptions): AcmeClient {
    let client = this.#clients.get(accountId);
    if (!client) {
      client = new AcmeClient({ ...options, clock: this.#clock });
      this.#clients.set(accountId, client);
    }
    return client;
  }

  async closeAll(): Promise<void> {
    const clients = [...this.#clients.values()];
    this.#clients.clear();
    await Promise.all(clients.map((client) => client.close()));
  }
}
