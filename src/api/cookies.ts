// The portal's session cookie: read from the Cookie header, written with the
// attributes that keep it from scripts (HttpOnly), from other sites' requests
// that change things (SameSite=Lax), and off plain HTTP when served over TLS.
import type { FastifyReply, FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'certkeep_session';

export function sessionCookie(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === SESSION_COOKIE) return value.join('=');
  }
  return undefined;
}

/** Sets the session cookie; `expiresAt` null clears it. */
export function setSessionCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  token: string | null,
  expiresAt: number | null,
): void {
  const attributes = [
    `${SESSION_COOKIE}=${token ?? ''}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Lax',
    token && expiresAt ? `Max-Age=${Math.max(0, Math.floor((expiresAt - Date.now()) / 1000))}` : 'Max-Age=0',
    // request.protocol is https behind TLS, and behind a proxy that says so when Fastify trusts it.
    ...(request.protocol === 'https' ? ['Secure'] : []),
  ];
  reply.header('set-cookie', attributes.join('; '));
}
