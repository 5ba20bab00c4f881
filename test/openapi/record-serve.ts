// Preloaded into `certkeep serve` by the e2e harness (node --import, see
// test/e2e/server.ts) when CERTKEEP_TEST_ANSWERS names a file: each answer the
// server gives is appended there as a JSON line, and its OpenAPI document is
// written beside it (<file>.openapi.json) once the app listens, so that the
// harness can hold the one against the other when the server stops.
import diagnostics from 'node:diagnostics_channel';
import { appendFileSync, writeFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { recordAnswers } from './answers.ts';

const file = process.env.CERTKEEP_TEST_ANSWERS;
if (file) {
  recordAnswers((answer) => appendFileSync(file, `${JSON.stringify(answer)}\n`));
  diagnostics.subscribe('fastify.initialization', (message) => {
    const { fastify: app } = message as { fastify: FastifyInstance & { swagger?: () => unknown } };
    app.addHook('onListen', async () => {
      if (typeof app.swagger === 'function') writeFileSync(`${file}.openapi.json`, JSON.stringify(app.swagger()));
    });
  });
}
