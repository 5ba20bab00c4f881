// The RCL API's errors: a text/plain body that says what to fix. 401 for the
// API key, 403 for a read-only key on a route that changes something, 404 for a
// certificate that does not exist, 400 for everything else the client got wrong
// (an order in the wrong state, an unknown orderUri, a bad field). Failures of
// the CA or of certkeep itself are 502/503/500 and never carry a stack trace.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AcmeError, AcmeProblemError, AcmeRateLimitError } from '../../../acme/index.ts';
import { NotFoundError, OperationError, UsageError } from '../../../errors.ts';
import { PkiInputError } from '../../../pki/index.ts';

/** An answer with a status of its own (503 while the CA is still working). */
export class RclError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'RclError';
    this.status = status;
  }
}

/** The CA's verdicts on what the client asked for, rather than on the CA's own state. */
const CLIENT_PROBLEMS = new Set(['rejectedIdentifier', 'unsupportedIdentifier', 'invalidContact', 'unsupportedContact', 'caa', 'malformed', 'badCSR']);

export function sendText(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).type('text/plain; charset=utf-8').send(message);
}

export function rclErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error.validation) return sendText(reply, 400, describeValidation(error));
  if (error instanceof RclError) return sendText(reply, error.status, error.message);
  if (error instanceof UsageError || error instanceof OperationError || error instanceof PkiInputError) return sendText(reply, 400, error.message);
  if (error instanceof NotFoundError) return sendText(reply, 404, error.message);
  if (error instanceof AcmeRateLimitError) {
    reply.header('retry-after', Math.max(1, Math.ceil((error.retryAfter.getTime() - Date.now()) / 1000)));
    return sendText(reply, 429, `the CA's rate limit: ${error.message}`);
  }
  if (error instanceof AcmeProblemError && CLIENT_PROBLEMS.has(error.acmeType)) return sendText(reply, 400, `the CA refused: ${error.message}`);
  if (error instanceof AcmeError) return sendText(reply, 502, `the CA: ${error.message}`);
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
