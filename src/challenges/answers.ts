// Where a challenge responder finds the key authorization it serves: by token
// (HTTP-01) or by identifier (TLS-ALPN-01). The server looks in the store, so
// that any instance answers any order; the CLI keeps them in memory.

export interface AnswerSource {
  keyAuthorization(key: string): string | undefined | Promise<string | undefined>;
}

export class MemoryAnswers implements AnswerSource {
  readonly #answers = new Map<string, string>();
  set(key: string, keyAuthorization: string): void {
    this.#answers.set(key, keyAuthorization);
  }
  /** Removes the answer; with `keyAuthorization`, only while it is still that one (a newer order may have replaced it). */
  delete(key: string, keyAuthorization?: string): void {
    if (keyAuthorization === undefined || this.#answers.get(key) === keyAuthorization) this.#answers.delete(key);
  }
  keyAuthorization(key: string): string | undefined {
    return this.#answers.get(key);
  }
}
