import { AcmeClient, type AcmeClientOptions } from '../acme/index.ts';

/** One AcmeClient per account, so that connections and nonces are reused across orders. */
export class AcmeClients {
  readonly #clients = new Map<string, AcmeClient>();

  forAccount(accountId: string, options: AcmeClientOptions): AcmeClient {
    let client = this.#clients.get(accountId);
    if (!client) {
      client = new AcmeClient(options);
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
