// The seam between the issuance engine and the ways of proving control of a
// name (RFC 8555 §8). A solver makes one challenge answerable and takes the
// answer away again; the engine decides when.

import type { ChallengeType } from '../acme/index.ts';

export type { ChallengeType } from '../acme/index.ts';

export interface ChallengeTask {
  type: ChallengeType;
  identifier: { type: 'dns' | 'ip'; value: string };
  token: string;
  /** token || '.' || thumbprint(accountKey), RFC 8555 §8.1 */
  keyAuthorization: string;
  /** base64url(sha256(keyAuthorization)), the DNS-01 TXT value, RFC 8555 §8.4 */
  dnsValue: string;
  /** the identifier was a wildcard (`*.example.com`); the authorization names the base domain */
  wildcard: boolean;
  /** The order this answers, for solvers that keep answers in the store. */
  orderId?: string;
}

export interface ChallengeSolver {
  readonly type: ChallengeType;
  /** Makes the challenge answerable. Must be idempotent: it runs again when a killed process resumes. */
  present(task: ChallengeTask): Promise<void>;
  /** Removes what present() put in place; absent things are not an error. */
  cleanup(task: ChallengeTask): Promise<void>;
  /** Waits until the answer is visible to the CA, where that can be checked (DNS propagation). */
  waitUntilVisible?(task: ChallengeTask): Promise<void>;
  /** Releases ports and other resources. */
  close?(): Promise<void>;
}
