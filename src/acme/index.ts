// The ACME client's public surface.
export {
  type AccountRecovery,
  type AcmeClientOptions,
  AcmeClient,
  type CreateAccountOptions,
  type ExternalAccountBinding,
  type WaitOptions,
} from './client.ts';
export {
  AcmeAuthorizationError,
  AcmeError,
  AcmeNetworkError,
  AcmeNotFoundError,
  AcmeOrderError,
  AcmeProblemError,
  AcmeProfileError,
  AcmeProtocolError,
  AcmeRateLimitError,
  AcmeTimeoutError,
  AcmeTlsTrustError,
  AcmeUserActionRequiredError,
} from './errors.ts';
export { b64url, type JwsAlgorithm, JwsSigner, jwkThumbprint } from './jws.ts';
export type { NewOrderRequest } from './orders.ts';
export type { ConnectionGuard, RequestObserver } from './http.ts';
export type { RetryPolicy } from './transport.ts';
export type * from './types.ts';
