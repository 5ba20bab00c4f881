// Signed, expiring links to one version of a certificate's files, served by
// certkeep itself at GET /dl/<token>/<file name> (routes/downloads.ts), so that
// they work without an API key — for the compatibility APIs, whose clients
// expect download URLs.
//
// A token is `<payload>.<mac>`: the payload is base64url JSON
// {s: subscription, n: certificate name, v: version id, f: format, e: expiry in
// epoch seconds}, the mac its HMAC-SHA256 under a key derived from the master
// key (SecretBox.deriveKey), so links stop working when the master key changes.
// Key and PFX links are as secret as the key: hand them only to a caller that
// may read the key (a write-scoped API key).
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { CertificateFiles, SecretBox } from '../engine/index.ts';

/** How long a link works: 7 days, then the client asks for the certificate again. */
export const LINK_LIFETIME_MS = 7 * 86_400_000;

const KEY_PURPOSE = 'download-links';

interface FormatSpec {
  /** The file name after the certificate's name. */
  suffix: string;
  contentType: string;
  /** Holds the private key. */
  secret: boolean;
  body(files: CertificateFiles): string | Uint8Array | undefined;
}

/** Every file a link can name: PEM parts, DER, PKCS#12, and the same PEM as .txt for clients that want text. */
export const DOWNLOAD_FORMATS = {
  pem: { suffix: '.pem', contentType: 'application/x-pem-file', secret: false, body: (f) => f.fullchain },
  pfx: { suffix: '.pfx', contentType: 'application/x-pkcs12', secret: true, body: (f) => f.pfx },
  cer: { suffix: '.cer', contentType: 'application/pkix-cert', secret: false, body: (f) => f.der },
  crt: { suffix: '.crt', contentType: 'application/x-pem-file', secret: false, body: (f) => f.cert },
  txt: { suffix: '.txt', contentType: 'text/plain; charset=utf-8', secret: false, body: (f) => f.fullchain },
  key: { suffix: '.key', contentType: 'application/x-pem-file', secret: true, body: (f) => f.key },
  'key-txt': { suffix: '.key.txt', contentType: 'text/plain; charset=utf-8', secret: true, body: (f) => f.key },
  'cert-crt': { suffix: '.cert.crt', contentType: 'application/x-pem-file', secret: false, body: (f) => f.cert },
  'cabundle-crt': { suffix: '.cabundle.crt', contentType: 'application/x-pem-file', secret: false, body: (f) => f.chain },
  'fullchain-crt': { suffix: '.fullchain.crt', contentType: 'application/x-pem-file', secret: false, body: (f) => f.fullchain },
} as const satisfies Record<string, FormatSpec>;

export type DownloadFormat = keyof typeof DOWNLOAD_FORMATS;

/** What a link grants: one file of one version of one certificate, until a time. */
export interface DownloadGrant {
  subscriptionId: string;
  name: string;
  versionId: string;
  format: DownloadFormat;
  /** Epoch milliseconds (stored to the second). */
  expiresAt: number;
}

export function signDownloadToken(secrets: SecretBox, grant: DownloadGrant): string {
  const payload = Buffer.from(
    JSON.stringify({ s: grant.subscriptionId, n: grant.name, v: grant.versionId, f: grant.format, e: Math.floor(grant.expiresAt / 1000) }),
  ).toString('base64url');
  return `${payload}.${mac(secrets, payload).toString('base64url')}`;
}

export type OpenedToken = { grant: DownloadGrant } | { refused: 'invalid' | 'expired' };

/** The grant of an intact token; 'invalid' for anything altered or made up, 'expired' after its time. */
export function openDownloadToken(secrets: SecretBox, token: string, now: number): OpenedToken {
  const [payload, tag, ...rest] = token.split('.');
  if (rest.length > 0 || !payload || !tag || !/^[A-Za-z0-9_-]+$/.test(payload + tag)) return { refused: 'invalid' };
  const given = Buffer.from(tag, 'base64url');
  const expected = mac(secrets, payload);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { refused: 'invalid' };
  const grant = parseGrant(payload);
  if (!grant) return { refused: 'invalid' };
  return grant.expiresAt <= now ? { refused: 'expired' } : { grant };
}

/**
 * The links to a version's files in the formats given, as absolute URLs on the
 * server the request came to.
 */
export function downloadLinks<F extends DownloadFormat>(
  secrets: SecretBox,
  base: string,
  version: { subscriptionId: string; name: string; versionId: string },
  formats: readonly F[],
  now: number,
): Record<F, string> {
  const expiresAt = now + LINK_LIFETIME_MS;
  const links = {} as Record<F, string>;
  for (const format of formats) {
    const token = signDownloadToken(secrets, { ...version, format, expiresAt });
    links[format] = `${base}/dl/${token}/${encodeURIComponent(fileName(version.name, format))}`;
  }
  return links;
}

export function fileName(certificateName: string, format: DownloadFormat): string {
  return `${certificateName}${DOWNLOAD_FORMATS[format].suffix}`;
}

/** The scheme and host the client reached this server at: X-Forwarded-Proto (from a proxy) and Host. */
export function publicBase(request: FastifyRequest): string {
  const forwarded = String(request.headers['x-forwarded-proto'] ?? '')
    .split(',')[0]
    .trim()
    .toLowerCase();
  const scheme = forwarded === 'https' || forwarded === 'http' ? forwarded : request.protocol;
  // A Host that is not a host[:port] would make a broken (or a foreign-looking) URL.
  const host = /^[A-Za-z0-9.-]+(:\d+)?$|^\[[0-9A-Fa-f:.]+\](:\d+)?$/.test(request.host) ? request.host : 'localhost';
  return `${scheme}://${host}`;
}

function mac(secrets: SecretBox, payload: string): Buffer {
  return createHmac('sha256', secrets.deriveKey(KEY_PURPOSE)).update(payload).digest();
}

function parseGrant(payload: string): DownloadGrant | undefined {
  let fields: Record<string, unknown>;
  try {
    fields = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  const { s, n, v, f, e } = fields ?? {};
  if (typeof s !== 'string' || typeof n !== 'string' || typeof v !== 'string' || typeof e !== 'number') return undefined;
  if (typeof f !== 'string' || !Object.hasOwn(DOWNLOAD_FORMATS, f)) return undefined;
  return { subscriptionId: s, name: n, versionId: v, format: f as DownloadFormat, expiresAt: e * 1000 };
}
