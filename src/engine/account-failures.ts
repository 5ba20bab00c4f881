// What a CA answered, during one scheduler pass, when an order could not even
// be opened (its account or directory): the rest of the pass takes that answer
// instead of asking again. Without it, each batch of due certificates waited
// out the same failing account creation and its retries (0.5 + 1 + 2 s) again.
// A CA that cannot be reached fails every account there; any other answer
// (a refused contact, a rate limit, terms to accept) holds for that account only.
import { AcmeError, AcmeNetworkError } from '../acme/index.ts';
import { accountKey } from './accounts.ts';
import type { IssuerSpec } from './issuers.ts';

export class AccountFailures {
  readonly #byCa = new Map<string, AcmeError>();
  readonly #byAccount = new Map<string, AcmeError>();

  /** The failure already met this pass for this subscription's account at the issuer, if any. */
  known(subscriptionId: string, issuer: IssuerSpec): AcmeError | undefined {
    return this.#byCa.get(issuer.caUrl) ?? this.#byAccount.get(accountKey(subscriptionId, issuer));
  }

  /** Keeps what the CA answered; other failures (the store, a bug) are not the CA's and are not kept. */
  remember(subscriptionId: string, issuer: IssuerSpec, error: unknown): void {
    if (error instanceof AcmeNetworkError) this.#byCa.set(issuer.caUrl, error);
    else if (error instanceof AcmeError) this.#byAccount.set(accountKey(subscriptionId, issuer), error);
  }
}
