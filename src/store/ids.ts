// Row ids: ULID-like, 48-bit millisecond timestamp + 80 random bits, written in
// lower-case Crockford base32 (26 characters). Ids sort by creation time (to the
// millisecond), are URL-safe, and need no coordination between instances.
import { randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const PREFIX = /^[a-z][a-z0-9]{0,15}$/;
const RANDOM_BYTES = 10;

// Random bytes come from a pool refilled in bulk: one getrandom call per 409 ids.
const pool = Buffer.alloc(RANDOM_BYTES * 409);
let poolOffset = pool.length;

/** A new unique id such as `01jd5x0k6m3q9v2w8r4t7y1zab`, or `crt_01jd…` with a prefix. */
export function newId(prefix?: string): string {
  const id = encodeTime(Date.now()) + encodeRandom();
  if (prefix === undefined) return id;
  if (!PREFIX.test(prefix)) {
    throw new Error(
      `id prefix "${prefix}" must be 1-16 lower-case letters or digits, starting with a letter`,
    );
  }
  return `${prefix}_${id}`;
}

function encodeTime(ms: number): string {
  let out = '';
  let rest = ms;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[rest % 32] + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

function encodeRandom(): string {
  if (poolOffset + RANDOM_BYTES > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const high = pool.readUIntBE(poolOffset, 5); // 40 bits, exact in a double
  const low = pool.readUIntBE(poolOffset + 5, 5);
  poolOffset += RANDOM_BYTES;
  return encode40(high) + encode40(low);
}

function encode40(value: number): string {
  let out = '';
  let rest = value;
  for (let i = 0; i < 8; i++) {
    out = ALPHABET[rest % 32] + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}
