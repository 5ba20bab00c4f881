// The libraries' failures in certkeep's one error vocabulary (errors.ts), so
// that every surface answers by category: the CA's refusals and outages, a
// caller's malformed key or CSR, a DNS server that refused an update, a store
// that cannot be opened. Errors that are none of these stay as they are (a
// fault: surfaces answer it without details).
import { AcmeError, AcmeProblemError, AcmeRateLimitError } from '../acme/index.ts';
import { DnsTransportError } from '../dns/transport.ts';
import { PropagationTimeoutError } from '../dns/propagation.ts';
import { ProviderSettingsError } from '../dns/provider.ts';
import { DnsUpdateError } from '../dns/providers/rfc2136/errors.ts';
import { CertkeepError, RateLimitedError, UnavailableError, UpstreamError, UsageError } from '../errors.ts';
import { PkiInputError } from '../pki/index.ts';
import { StoreError } from '../store/errors.ts';

/** The CA's verdicts on what the caller asked for (RFC 8555 §6.7), rather than on the CA's own state. */
const REFUSED_INPUT = new Set(['rejectedIdentifier', 'unsupportedIdentifier', 'invalidContact', 'unsupportedContact', 'caa', 'malformed', 'badCSR']);

/** `error` as an error of the vocabulary, or undefined when it is a fault. */
export function asCertkeepError(error: unknown): CertkeepError | undefined {
  if (error instanceof CertkeepError) return error;
  if (error instanceof AcmeRateLimitError) return new RateLimitedError(`the CA's rate limit: ${error.message}`, error.retryAfter, { cause: error });
  if (error instanceof AcmeProblemError && REFUSED_INPUT.has(error.acmeType)) {
    return new UpstreamError(`the CA refused: ${error.message}`, { refusedInput: true, cause: error });
  }
  if (error instanceof AcmeError) return new UpstreamError(`the CA: ${error.message}`, { cause: error });
  if (error instanceof PkiInputError) return new UsageError(error.message);
  if (error instanceof ProviderSettingsError) {
    const field = error.setting ? `settings.${error.setting}` : 'provider';
    return new UsageError(`${field}: ${error.message}`, field);
  }
  if (error instanceof DnsUpdateError || error instanceof DnsTransportError || error instanceof PropagationTimeoutError) {
    return new UpstreamError(error.message, { cause: error });
  }
  if (error instanceof StoreError) return new UnavailableError(error.message, { cause: error });
  return undefined;
}
