// Errors on the AutoDNS routes leave in the vendor's envelope (E<task>, type
// ERROR, a message saying what to fix), never as a stack trace. The native
// routes keep their RFC 9457 problem documents: this handler is the plugin's own.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { asCertkeepError } from '../../../engine/index.ts';
import { type ErrorCategory, RateLimitedError } from '../../../errors.ts';
import { retryAfterSeconds } from '../../problems.ts';
import { failure, type ResponseObject } from './envelope.ts';

/** The vendor API's HTTP status for each category of error (its README, "HTTP status"). */
const STATUS: Record<ErrorCategory, number> = {
  'bad-input': 400,
  'not-found': 404,
  conflict: 409,
  forbidden: 403,
  // The CA said no or could not be reached: the request was fine, the upstream was not.
  'upstream-failed': 502,
  'rate-limited': 429,
  unavailable: 503,
};

/** What an error becomes: HTTP status, text, and the field it is about. */
interface Mapped {
  status: number;
  text: string;
  field?: string;
  retryAfter?: Date;
}

export function autodnsErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const mapped = mapError(error);
  if (mapped.status >= 500) request.log.error({ err: error }, 'AutoDNS request failed');
  if (mapped.retryAfter) reply.header('retry-after', retryAfterSeconds(mapped.retryAfter));
  const task = request.routeOptions.config?.autodnsTask ?? '0000';
  const objects = mapped.field ? [{ type: 'field', value: mapped.field }] : undefined;
  return reply.code(mapped.status).send(failure(request, task, mapped.text, objectOf(request), objects));
}

export function autodnsNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const path = request.url.split('?')[0];
  const text = `no task ${request.method} ${path}; the tasks are listed at /api/openapi.json under /autodns/v1`;
  return reply.code(404).send(failure(request, '0000', text, { type: 'Task' }));
}

function mapError(error: FastifyError): Mapped {
  if (error.validation) {
    const [issue] = error.validation;
    const field = fieldOf(error.validationContext, issue?.instancePath ?? '', issue?.params);
    const problem = issue?.keyword === 'required' ? 'is missing' : (issue?.message ?? 'is invalid');
    return { status: 400, text: `${field} ${problem}`, field };
  }
  if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') return { status: 400, text: 'the body is not valid JSON; send one JSON object' };
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return { status: 415, text: 'send the body as JSON with "Content-Type: application/json"' };
  const known = asCertkeepError(error);
  if (known) {
    const retryAfter = known instanceof RateLimitedError ? known.retryAfter : undefined;
    return { status: STATUS[known.category], text: known.message, field: known.field, retryAfter };
  }
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
  if (status < 500) return { status, text: error.message };
  return { status: 500, text: 'the server could not complete the request; the error is in its log' };
}

/** The object the request is about: the certificate or message in its path. */
function objectOf(request: FastifyRequest): ResponseObject {
  const id = (request.params as { id?: unknown } | undefined)?.id;
  const type = request.url.includes('/poll') ? 'Message' : 'Certificate';
  return typeof id === 'string' || typeof id === 'number' ? { type, value: String(id) } : { type };
}

function fieldOf(context: string | undefined, instancePath: string, params: Record<string, unknown> | undefined): string {
  const path = instancePath.replace(/^\//, '').replaceAll('/', '.');
  const missing = typeof params?.missingProperty === 'string' ? params.missingProperty : '';
  const extra = typeof params?.additionalProperty === 'string' ? params.additionalProperty : '';
  return [path, missing || extra].filter(Boolean).join('.') || context || 'body';
}
