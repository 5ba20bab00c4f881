// The errors certkeep raises on purpose, in one vocabulary for every surface.
// Each has a category, which a surface turns into its own answer (an HTTP
// status, an exit code) from one table of its own; the field it is about, when
// there is one; and a message written for whoever reads it, naming that field
// (not a command-line flag: the CLI adds its flag names itself) and what to do.
// The engine turns the acme, pki, dns and store libraries' failures into these
// (engine/failures.ts).

export type ErrorCategory =
  | 'bad-input' // the request itself is wrong: a bad name, an unknown option value
  | 'not-found' // something named does not exist (or belongs to another tenant)
  | 'conflict' // understood, but the state of things does not allow it now
  | 'forbidden' // the caller may not do this
  | 'upstream-failed' // the CA (or a DNS server) said no or failed
  | 'rate-limited' // the CA's rate limit: try again at retryAfter
  | 'unavailable'; // not ready yet, or a service it needs is down: try again later

export interface ErrorDetails {
  /** The request field the error is about, e.g. `names`, `settings.server`. */
  field?: string;
  cause?: unknown;
}

export class CertkeepError extends Error {
  readonly category: ErrorCategory;
  readonly field: string | undefined;
  constructor(category: ErrorCategory, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'CertkeepError';
    this.category = category;
    this.field = details.field;
  }
}

/** The request itself is wrong (bad name, unknown option value). */
export class UsageError extends CertkeepError {
  constructor(message: string, field?: string) {
    super('bad-input', message, { field });
    this.name = 'UsageError';
  }
}

/** Something named does not exist. */
export class NotFoundError extends CertkeepError {
  constructor(message: string, details?: ErrorDetails) {
    super('not-found', message, details);
    this.name = 'NotFoundError';
  }
}

/** Understood, but it cannot be carried out in the state things are in (an order already ended, a name taken). */
export class ConflictError extends CertkeepError {
  constructor(message: string, details?: ErrorDetails) {
    super('conflict', message, details);
    this.name = 'ConflictError';
  }
}

/** The caller may not do this (a read key asking for a private key, a port only root may open). */
export class ForbiddenError extends CertkeepError {
  constructor(message: string, details?: ErrorDetails) {
    super('forbidden', message, details);
    this.name = 'ForbiddenError';
  }
}

/** The CA (or a DNS server) refused or failed; `refusedInput`: it refused what the caller asked for (a name, a CSR). */
export class UpstreamError extends CertkeepError {
  readonly refusedInput: boolean;
  constructor(message: string, details: ErrorDetails & { refusedInput?: boolean } = {}) {
    super('upstream-failed', message, details);
    this.name = 'UpstreamError';
    this.refusedInput = details.refusedInput ?? false;
  }
}

/** The CA's rate limit: nothing will work before `retryAfter`. */
export class RateLimitedError extends CertkeepError {
  readonly retryAfter: Date;
  constructor(message: string, retryAfter: Date, details?: ErrorDetails) {
    super('rate-limited', message, details);
    this.name = 'RateLimitedError';
    this.retryAfter = retryAfter;
  }
}

/** Not ready yet (the CA is still working), or something it needs is not there: try again later. */
export class UnavailableError extends CertkeepError {
  constructor(message: string, details?: ErrorDetails) {
    super('unavailable', message, details);
    this.name = 'UnavailableError';
  }
}
