// Request validation: JSON bodies are checked as sent — a string where a list
// belongs, or a field the schema does not know, is refused rather than
// coerced or dropped. Path and query parameters arrive as text and are coerced
// to the numbers and booleans their schemas name; a number must come out
// finite (Ajv turns "Infinity" and "1e309" into Infinity and then skips the
// bounds). A body nested deeper than MAX_BODY_DEPTH is refused before the
// schema sees it: a recursive schema (the AutoDNS query's filters) would
// otherwise recurse until the stack runs out.
import Ajv, { type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance, FastifyRequest } from 'fastify';

const COMMON: Options = { allErrors: false, removeAdditional: false, useDefaults: true, keywords: ['example'] };

export const MAX_BODY_DEPTH = 32;

export function strictValidation(app: FastifyInstance): void {
  const body = addFormats.default(new Ajv.default({ ...COMMON, coerceTypes: false }));
  const text = addFormats.default(new Ajv.default({ ...COMMON, coerceTypes: 'array' }));
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? body.compile(schema) : finiteOnly(text.compile(schema))));
  app.addHook('preValidation', async (request: FastifyRequest) => {
    if (depthOver(request.body, MAX_BODY_DEPTH)) {
      throw Object.assign(new Error(`the body is nested more than ${MAX_BODY_DEPTH} levels deep; send a flatter document`), { statusCode: 400 });
    }
  });
}

/** The validator, refusing any coerced number that is not finite. */
function finiteOnly(validate: ValidateFunction): ValidateFunction {
  const checked = ((data: unknown) => {
    if (!validate(data)) {
      checked.errors = validate.errors;
      return false;
    }
    const field = Object.entries((data ?? {}) as Record<string, unknown>).find(([, value]) => [value].flat().some(notFinite))?.[0];
    checked.errors = field === undefined ? null : [nonFiniteError(field)];
    return field === undefined;
  }) as ValidateFunction;
  return checked;
}

function notFinite(value: unknown): boolean {
  return typeof value === 'number' && !Number.isFinite(value);
}

function nonFiniteError(field: string): ErrorObject {
  return { instancePath: `/${field}`, schemaPath: '#', keyword: 'type', params: {}, message: 'must be a finite number' };
}

/** Whether a parsed JSON value nests deeper than `max` (walked without recursion). */
function depthOver(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth >= max) return true;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return false;
}
