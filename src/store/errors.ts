// Errors the operator can act on (a bad key, an unreachable database, a data
// directory that cannot be written). The message says what failed and what to
// do; surfaces print it without a stack trace. Messages never contain secrets.
export class StoreError extends Error {
  override name = 'StoreError';
}
