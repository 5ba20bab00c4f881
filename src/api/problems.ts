// Every error leaves the API as an RFC 9457 problem document: what went wrong,
// and for validation failures which field and why. Never a stack trace.
import { Type } from '@sinclair/typebox';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { asCertkeepError } from '../engine/index.ts';
import { type ErrorCategory, RateLimitedError } from '../errors.ts';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: { field: string; message: string }[];
}

export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

/** The problem document as the OpenAPI document and the serializer know it (a shared schema: #/components/schemas/Problem). */
export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: 'about:blank' }),
    title: Type.String({ description: "the status's name" }),
    status: Type.Integer(),
    detail: Type.Optional(Type.String({ description: 'what went wrong and what to do, naming the field' })),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }), { description: 'per field, for a request that failed validation' })),
  },
  { $id: 'Problem', description: 'RFC 9457 problem document' },
);

/** OpenAPI response entries for problem documents with these statuses. */
export function problemResponses(...statuses: number[]): Record<number, { description: string; content: Record<string, { schema: { $ref: string } }> }> {
  return Object.fromEntries(
    statuses.map((status) => [status, { description: TITLES[status] ?? 'Error', content: { [PROBLEM_MEDIA_TYPE]: { schema: Type.Ref('Problem') } } }]),
  );
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

/** The native API's answer to each category of error. */
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

export function problem(status: number, detail?: string, extra: Partial<Problem> = {}): Problem {
  return { type: 'about:blank', title: TITLES[status] ?? 'Error', status, ...(detail ? { detail } : {}), ...extra };
}

export function sendProblem(reply: FastifyReply, body: Problem): FastifyReply {
  return reply.code(body.status).type(PROBLEM_MEDIA_TYPE).send(body);
}

/** Fastify's error handler: known errors keep their message, others are logged and hidden. */
export function problemErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error.validation) {
    const errors = error.validation.map((issue) => ({
      field: fieldOf(issue.instancePath, issue.params),
      message: issue.keyword === 'additionalProperties' ? 'is not a known property' : (issue.message ?? 'is invalid'),
    }));
    const detail = errors.map((e) => `${e.field || error.validationContext || 'request'} ${e.message}`).join('; ');
    return sendProblem(reply, problem(400, detail, { errors }));
  }
  const failure = asCertkeepError(error);
  if (failure) {
    if (failure instanceof RateLimitedError) reply.header('retry-after', retryAfterSeconds(failure.retryAfter));
    const errors = failure.field ? { errors: [{ field: failure.field, message: failure.message }] } : {};
    return sendProblem(reply, problem(STATUS[failure.category], failure.message, errors));
  }
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
  if (status === 500) {
    request.log.error({ err: error }, 'request failed');
    return sendProblem(reply, problem(500, 'the server could not complete the request; the error is in its log'));
  }
  return sendProblem(reply, problem(status, requestErrorDetail(error, request)));
}

/** Seconds until `at`, at least 1, for a Retry-After header. */
export function retryAfterSeconds(at: Date): number {
  return Math.max(1, Math.ceil((at.getTime() - Date.now()) / 1000));
}

/** Fastify's own messages for a malformed request, said so that the client knows what to change. */
function requestErrorDetail(error: FastifyError, request: FastifyRequest): string {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return `the request body is larger than this route accepts (${kib(request.routeOptions.bodyLimit)})`;
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': {
      const type = request.headers['content-type'];
      return `send the body as JSON with "Content-Type: application/json"${type ? ` (this request has "${type}")` : ' (this request has none)'}`;
    }
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return 'the body is not valid JSON (or it holds a __proto__ or constructor.prototype key)';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'the body is empty but the Content-Type says application/json: send a JSON document, or no Content-Type';
    case 'FST_ERR_BAD_URL':
      return 'the URL holds an invalid percent-encoding';
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return 'a path segment of the URL is too long';
    default:
      return error.message;
  }
}

function kib(bytes: number | undefined): string {
  return bytes === undefined ? 'see the API documentation' : `at most ${Math.floor(bytes / 1024)} KiB`;
}

function fieldOf(instancePath: string, params: Record<string, unknown> | undefined): string {
  const path = instancePath.replace(/^\//, '').replaceAll('/', '.');
  const named = params?.missingProperty ?? params?.additionalProperty;
  return [path, typeof named === 'string' ? named : ''].filter(Boolean).join('.');
}
