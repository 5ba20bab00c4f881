// Request validation: JSON bodies are checked as sent — a string where a list
// belongs, or a field the schema does not know, is refused rather than
// coerced or dropped. Path and query parameters arrive as text and are coerced
// to the numbers and booleans their schemas name.
import Ajv, { type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';

const COMMON: Options = { allErrors: false, removeAdditional: false, useDefaults: true, keywords: ['example'] };

export function strictValidation(app: FastifyInstance): void {
  const body = addFormats.default(new Ajv.default({ ...COMMON, coerceTypes: false }));
  const text = addFormats.default(new Ajv.default({ ...COMMON, coerceTypes: 'array' }));
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? body : text).compile(schema));
}
