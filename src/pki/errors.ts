// Errors caused by the caller's input (a bad name, a malformed CSR, a wrong
// password, a key that does not match). Surfaces map them to a 400-style
// answer; any other error from this folder is a bug or an environment fault.
export class PkiInputError extends Error {
  override name = 'PkiInputError';
}
