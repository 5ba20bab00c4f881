// The web portal's files (web/, built into web/dist by `npm ci`), served on the
// API's origin: hashed assets under /assets with a year of caching, and the
// page itself at the portal's own paths, which shadow neither the API, the
// compatibility prefixes, /dl nor /.well-known. A strict Content-Security-Policy
// allows scripts and styles from this origin only: no inline code, no CDN.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { problem, sendProblem } from './problems.ts';

/** The paths a person opens; each answers with the portal's page, which routes in the browser. */
export const PORTAL_PATHS = [
  '/',
  '/sign-in',
  '/account',
  '/certificates',
  '/certificates/*',
  '/new-certificate',
  '/settings',
  '/settings/*',
];

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

interface Asset {
  type: string;
  body: Buffer;
  gzipped: Buffer;
}

/** web/dist beside the sources (src/api) or beside the bundle (dist/). */
export function findPortalDir(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const candidate = join(dir, 'web', 'dist');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    dir = dirname(dir);
  }
  return undefined;
}

function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const assetDir = join(dir, 'assets');
  for (const name of existsSync(assetDir) ? readdirSync(assetDir) : []) {
    const body = readFileSync(join(assetDir, name));
    assets.set(name, {
      type: TYPES[extname(name)] ?? 'application/octet-stream',
      body,
      gzipped: gzipSync(body, { level: 9 }),
    });
  }
  return assets;
}

export async function portalRoutes(app: FastifyInstance, options: { dir?: string }): Promise<void> {
  const dir = options.dir ?? findPortalDir();
  const page = dir ? readFileSync(join(dir, 'index.html')) : undefined;
  const assets = dir ? loadAssets(dir) : new Map<string, Asset>();
  const hidden = { schema: { hide: true } } as const;

  const sendPage = (_request: FastifyRequest, reply: FastifyReply) => {
    if (!page)
      return sendProblem(
        reply,
        problem(
          503,
          'the web portal is not built here: run npm run build (npm ci builds it) and restart certkeep serve',
        ),
      );
    return securePage(reply).type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(page);
  };
  for (const path of PORTAL_PATHS) app.get(path, hidden, sendPage);

  app.get<{ Params: { '*': string } }>('/assets/*', hidden, async (request, reply) => {
    const asset = assets.get(request.params['*']);
    if (!asset)
      return sendProblem(
        reply,
        problem(404, `no portal file ${request.params['*']}; reload the page to get the current ones`),
      );
    const gzip = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
    reply
      .type(asset.type)
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('x-content-type-options', 'nosniff')
      .header('vary', 'accept-encoding');
    if (gzip) reply.header('content-encoding', 'gzip');
    return reply.send(gzip ? asset.gzipped : asset.body);
  });
}

function securePage(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'same-origin')
    .header('x-frame-options', 'DENY');
}
