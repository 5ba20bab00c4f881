// Errors the engine raises on purpose. Their messages are written for the
// person at the terminal or the API client: what failed and what to do.

/** The request itself is wrong (bad name, unknown option value): CLI exit 2, HTTP 400. */
export class UsageError extends Error {
  readonly field: string | undefined;
  constructor(message: string, field?: string) {
    super(message);
    this.name = 'UsageError';
    this.field = field;
  }
}

/** Something named does not exist: CLI exit 1, HTTP 404. */
export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/** The operation was understood but could not be carried out now: CLI exit 1, HTTP 409/502. */
export class OperationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OperationError';
  }
}
