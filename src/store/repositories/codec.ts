// The columns that hold JSON (schema.ts: JSON is stored as text) are parsed on
// the way out of the store and serialized on the way in, here and nowhere else.
// Enum columns need no work: the record types narrow them, and only the
// repositories write them.

/** `Base` with the columns in `Fields` replaced by their decoded types. */
export type Decoded<Base, Fields> = Omit<Base, keyof Fields> & Fields;

/** A patch of `Base` in which the columns of `Fields` are given decoded. */
export type DecodedPatch<Base, Fields> = Omit<Base, keyof Fields> & Partial<Fields>;

/** The row with each of `columns` that it holds (not null) parsed. */
export function decodeJson<T>(row: object, columns: readonly string[]): T {
  const record: Record<string, unknown> = { ...row };
  for (const column of columns) {
    const value = record[column];
    if (typeof value === 'string') record[column] = JSON.parse(value);
  }
  return record as T;
}

/** The record with each of `columns` that it holds (not undefined or null) serialized. */
export function encodeJson<T>(record: object, columns: readonly string[]): T {
  const row: Record<string, unknown> = { ...record };
  for (const column of columns) {
    const value = row[column];
    if (value !== undefined && value !== null) row[column] = JSON.stringify(value);
  }
  return row as T;
}
