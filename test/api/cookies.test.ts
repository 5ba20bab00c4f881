// The session cookie's attributes: HttpOnly and SameSite=Lax always, Secure when the request came over TLS.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sessionCookie, setSessionCookie } from '../../src/api/cookies.ts';

function cookieFor(protocol: 'http' | 'https', token: string | null): string {
  let header = '';
  const reply = { header: (_name: string, value: string) => (header = value) } as unknown as FastifyReply;
  setSessionCookie({ protocol } as FastifyRequest, reply, token, token ? Date.now() + 3600_000 : null);
  return header;
}

test('HttpOnly, SameSite=Lax, Path=/ and a Max-Age; Secure only behind TLS', () => {
  const plain = cookieFor('http', 'cks_token');
  assert.match(plain, /^certkeep_session=cks_token; Path=\/; HttpOnly; SameSite=Lax; Max-Age=(3599|3600)$/);
  assert.match(cookieFor('https', 'cks_token'), /; Secure$/);
  assert.match(cookieFor('https', null), /^certkeep_session=; Path=\/; HttpOnly; SameSite=Lax; Max-Age=0; Secure$/);
});

test('the session cookie is read among others', () => {
  const read = (cookie: string | undefined) => sessionCookie({ headers: { cookie } } as unknown as FastifyRequest);
  assert.equal(read('a=1; certkeep_session=cks_x=y; b=2'), 'cks_x=y');
  assert.equal(read('a=1'), undefined);
  assert.equal(read(undefined), undefined);
});
