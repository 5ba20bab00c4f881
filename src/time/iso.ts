// How certkeep writes a moment for people and programs: ISO 8601 in UTC, to the second.

/** ISO 8601 in UTC without milliseconds, e.g. 2026-11-22T21:48:39Z. */
export function isoTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  // Years 0000-9999 end in ".sssZ"; others (±YYYYYY) keep the general form.
  return iso.length === 24 ? `${iso.slice(0, 19)}Z` : iso.replace(/\.\d{3}Z$/, 'Z');
}
