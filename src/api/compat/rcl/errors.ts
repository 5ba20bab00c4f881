// The RCL API's errors: a text/plain body that says what to fix. 401 for the
// API key, 403 for a read-only key on a route that changes something, 404 for a
// certificate that does not exist, 400 for everything else the client got wrong
// (an order in the wrong state, an unknown orderUri, a bad field, a name or CSR
// the CA refused). Failures of the CA are 502, an order the CA is still
// working on 503, certkeep's own 500; none carries a stack trace.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { asCertkeepError } from '../../../engine/index.ts';
import { type CertkeepError, type ErrorCategory, RateLimitedError, UpstreamError } from '../../../errors.ts';
import { retryAfterSeconds } from '../../problems.ts';

/** The RCL API's answer to each category of error (its README, "Errors"). */
const STATUS: Record<ErrorCategory, number> = {
  'bad-input': 400,
  'not-found': 404,
  conflict: 400,
  forbidden: 403,
  'upstream-failed': 502,
  'rate-limited': 429,
  unavailable: 503,
};

function statusOf(failure: CertkeepError): number {
  // The CA refusing the client's own names or CSR is something the client got wrong.
  return failure instanceof UpstreamError && failure.refusedInput ? 400 : STATUS[failure.category];
}

export function sendText(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).type('text/plain; charset=utf-8').send(message);
}

export function rclNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const path = request.url.split('?')[0];
  return sendText(reply, 404, `no route ${request.method} ${path}; the RCL routes are listed at /api/openapi.json under "RCL compatibility"`);
}

export function rclErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error.validation) return sendText(reply, 400, describeValidation(error));
  const failure = asCertkeepError(error);
  if (failure) {
    if (failure instanceof RateLimitedError) reply.header('retry-after', retryAfterSeconds(failure.retryAfter));
    return sendText(reply, statusOf(failure), failure.message);
  }
  // The rate limit (rate-limit.ts) has set Retry-After.
  if (error.statusCode === 429) return sendText(reply, 429, error.message);
  // Fastify's own 4xx: a body that is not JSON, too large, of another content type.
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) return sendText(reply, 400, error.message);
  request.log.error({ err: error }, 'request failed');
  return sendText(reply, 500, 'the server could not complete the request; the error is in its log');
}

function describeValidation(error: FastifyError): string {
  const where = error.validationContext === 'body' ? 'the request body' : (error.validationContext ?? 'the request');
  // A nullable field that fails says "must be boolean", "must be null" and "must match a
  // schema in anyOf": only the first is news.
  const issues = error.validation!.filter((issue) => issue.keyword !== 'anyOf' && !(issue.keyword === 'type' && issue.params?.type === 'null'));
  const lines = issues.map((issue) => {
      const path = issue.instancePath.replace(/^\//, '').replaceAll('/', '.');
      const missing = typeof issue.params?.missingProperty === 'string' ? issue.params.missingProperty : '';
      if (missing) return `${[path, missing].filter(Boolean).join('.')}: is required`;
      return `${path || where}: ${issue.message ?? 'is invalid'}`;
  });
  return [...new Set(lines)].join('; ') || `${where} is invalid`;
}
