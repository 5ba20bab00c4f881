// Portal passwords: scrypt (RFC 7914) from node:crypto, with its parameters
// stored beside the salt so that they can be raised later without a migration.
import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';
import { base32 } from '../base32.ts';
import { UsageError } from '../errors.ts';

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 1024;

// N = 2^15, r = 8: 32 MiB and about 100 ms a hash on one core (OWASP's minimum is 2^17 with r = 8 p = 1 at
// 128 MiB; this keeps a burst of sign-ins from exhausting a small server's memory).
const PARAMS = { N: 32768, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;

function derive(
  password: string,
  salt: Buffer,
  params: { N: number; r: number; p: number },
): Promise<Buffer> {
  const options: ScryptOptions = { ...params, maxmem: 256 * params.N * params.r };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, KEY_LENGTH, options, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

/** `scrypt$N$r$p$<salt>$<hash>`, both base64url. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await derive(password, salt, PARAMS);
  return [
    'scrypt',
    PARAMS.N,
    PARAMS.r,
    PARAMS.p,
    salt.toString('base64url'),
    hash.toString('base64url'),
  ].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, N, r, p, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await derive(password, Buffer.from(salt, 'base64url'), {
    N: Number(N),
    r: Number(r),
    p: Number(p),
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A hash no password matches, checked against when the email is unknown so that both take as long. */
export const NO_USER_HASH = `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$${Buffer.alloc(16).toString('base64url')}$${Buffer.alloc(KEY_LENGTH).toString('base64url')}`;

/** Refuses a password too short to resist guessing, or long enough to be a way to tie up the CPU. */
export function checkNewPassword(password: string, field: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new UsageError(
      `${field}: a password needs at least ${MIN_PASSWORD_LENGTH} characters (this one has ${password.length}); a few unrelated words make a good one`,
      field,
    );
  }
  if (password.length > MAX_PASSWORD_LENGTH)
    throw new UsageError(`${field}: a password may have at most ${MAX_PASSWORD_LENGTH} characters`, field);
}

/** A one-time password such as `k3m9-x2pq-w7fd-c4hn`: 80 random bits, easy to read out and type. */
export function oneTimePassword(): string {
  return base32(randomBytes(10)).slice(0, 16).match(/.{4}/g)!.join('-');
}
