// Requests per API key per window (fixed windows, counted in this process).
// A request with a verified key counts against that key (by its public
// prefix); any other request — no key, a wrong key, the public docs —
// counts against the client's IP address, which also slows down guessing.
// Counting only verified keys means nobody can use up someone else's
// allowance by sending their key prefix with a made-up secret.
//
// The default, 600 requests a minute per key, is ten a second sustained with
// bursts of hundreds: far above what an agent, the portal or a deploy script
// needs, while one runaway client stays a small share of what one instance
// serves (bench:api measures thousands a second). Health checks are exempt.
//
// Routes that authenticate another way (compatibility APIs) count per key too
// if they set request.caller in an onRequest hook of their own: the limiter's
// hook is appended after a route's hooks. Behind a reverse proxy, every
// keyless request has the proxy's address until Fastify's trustProxy is set.
import rateLimit, { type errorResponseBuilderContext } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { UsageError } from '../errors.ts';
import { isoTime, principalOf } from '../engine/index.ts';

export interface RateLimit {
  max: number;
  windowMs: number;
}

export const DEFAULT_RATE_LIMIT: RateLimit = { max: 600, windowMs: 60_000 };

const UNITS: Record<string, number> = { s: 1000, sec: 1000, second: 1000, m: 60_000, min: 60_000, minute: 60_000, h: 3_600_000, hour: 3_600_000 };

/** "off", or requests per unit: "600/min", "20/s", "10000/h". */
export function parseRateLimit(text: string, source = 'CERTKEEP_RATE_LIMIT'): RateLimit | false {
  const value = text.trim().toLowerCase();
  if (value === 'off') return false;
  const match = /^(\d+)\s*\/\s*([a-z]+)$/.exec(value);
  const windowMs = match ? UNITS[match[2]] : undefined;
  if (!match || !windowMs || Number(match[1]) < 1) {
    throw new UsageError(`${source}: "${text}" is not a rate limit; use off or requests per unit, e.g. 600/min, 20/s, 10000/h`, 'rateLimit');
  }
  return { max: Number(match[1]), windowMs };
}

/** CERTKEEP_RATE_LIMIT when set; undefined otherwise. */
export function rateLimitFromEnv(env: NodeJS.ProcessEnv = process.env): RateLimit | false | undefined {
  const value = env.CERTKEEP_RATE_LIMIT?.trim();
  return value ? parseRateLimit(value) : undefined;
}

export const rateLimitPlugin = fp(async (app: FastifyInstance, limit: RateLimit) => {
  await app.register(rateLimit, {
    max: limit.max,
    timeWindow: limit.windowMs,
    // Runs after auth.ts has identified the caller (see there).
    hook: 'onRequest',
    keyGenerator: bucketOf,
    // Enough buckets for every active key and address; the least recently used go first.
    cache: 20_000,
    errorResponseBuilder: (request, context) => tooManyRequests(request, context, limit),
  });
});

function bucketOf(request: FastifyRequest): string {
  if (request.agentCaller) return `agent:${request.agentCaller.agentId}`;
  return request.caller ? `key:${principalOf(request.caller)}` : `ip:${request.ip}`;
}

/** Thrown to problemErrorHandler; the plugin has already set Retry-After. */
function tooManyRequests(request: FastifyRequest, context: errorResponseBuilderContext, limit: RateLimit): Error & { statusCode: number } {
  const seconds = Math.max(1, Math.ceil(context.ttl / 1000));
  const who = request.caller ? ('user' in request.caller ? `${request.caller.user.email}` : `this API key (${request.caller.keyPrefix})`) : `requests without a valid API key from ${request.ip}`;
  const at = isoTime(Date.now() + seconds * 1000);
  const error = new Error(`${who} reached the limit of ${limit.max} requests ${windowText(limit.windowMs)}; retry in ${seconds} s (after ${at})`);
  return Object.assign(error, { statusCode: 429 });
}

function windowText(ms: number): string {
  if (ms === 1000) return 'per second';
  if (ms === 60_000) return 'per minute';
  if (ms === 3_600_000) return 'per hour';
  return `per ${ms / 1000} seconds`;
}
