// Replay nonces (RFC 8555 §6.5). Every response's Replay-Nonce feeds the pool;
// a HEAD to newNonce is only needed when it is empty.

const MAX_POOLED = 128;

export class NoncePool {
  private readonly nonces: string[] = [];

  add(nonce: string | string[] | undefined): void {
    if (typeof nonce !== 'string' || nonce === '') return;
    this.nonces.push(nonce);
    // Old nonces are the likeliest to have expired at the CA: drop those first.
    if (this.nonces.length > MAX_POOLED) this.nonces.shift();
  }

  /** The freshest nonce, or undefined when the pool is empty. */
  take(): string | undefined {
    return this.nonces.pop();
  }

  get size(): number {
    return this.nonces.length;
  }

  clear(): void {
    this.nonces.length = 0;
  }
}
