// GET /api/v1/certificates/{name}/files/{format}: the current version in the
// format asked for. The private key and the PFX (which holds it) need a write key.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { certificateFiles, type Engine } from '../../engine/index.ts';
import { ConflictError, ForbiddenError } from '../../errors.ts';
import { problemResponses } from '../problems.ts';

const FORMATS = {
  pem: { type: 'application/pem-certificate-chain', file: 'fullchain.pem', secret: false },
  fullchain: { type: 'application/pem-certificate-chain', file: 'fullchain.pem', secret: false },
  chain: { type: 'application/pem-certificate-chain', file: 'chain.pem', secret: false },
  cert: { type: 'application/x-pem-file', file: 'cert.pem', secret: false },
  der: { type: 'application/pkix-cert', file: 'cert.der', secret: false },
  key: { type: 'application/x-pem-file', file: 'privkey.pem', secret: true },
  pfx: { type: 'application/x-pkcs12', file: 'cert.pfx', secret: true },
} as const;

type Format = keyof typeof FORMATS;

const Params = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }),
  format: Type.Union(Object.keys(FORMATS).map((format) => Type.Literal(format))),
});

export async function fileRoutes(app: FastifyInstance, options: { engine: Engine }): Promise<void> {
  app.get<{ Params: { name: string; format: Format } }>(
    '/certificates/:name/files/:format',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'The current version as a file',
        params: Params,
        produces: [...new Set(Object.values(FORMATS).map((format) => format.type))],
        response: {
          200: Type.String({ description: 'the file: PEM text, or DER and PKCS#12 bytes', format: 'binary' }),
          // 404: no such certificate, or none issued yet; 409: no key (the client's CSR) or no PFX password.
          ...problemResponses(404, 409),
        },
      },
    },
    async (request, reply) => {
      const { name, format } = request.params;
      const spec = FORMATS[format];
      if (spec.secret && !request.caller.scopes.includes('write')) {
        throw new ForbiddenError(`the ${format} file holds the private key: it needs a write-scoped API key, or the operator or admin role`);
      }
      const files = await certificateFiles(options.engine, request.caller.subscriptionId, name);
      const body = format === 'pfx' ? files.pfx : format === 'der' ? files.der : files[format === 'pem' ? 'fullchain' : format];
      if (body === undefined && spec.secret && files.key === undefined) {
        throw new ConflictError(`certificate "${name}" was issued for the client's own CSR: the client holds its private key, certkeep has none`);
      }
      if (body === undefined) {
        throw new ConflictError(`certificate "${name}" has no PFX password: set one with PATCH /api/v1/certificates/${name} {"pfxPassword": "…"} to download a PFX`);
      }
      return reply
        .type(spec.type)
        .header('content-disposition', `attachment; filename="${name}-${spec.file}"`)
        .header('cache-control', 'no-store')
        .send(typeof body === 'string' ? body : Buffer.from(body));
    },
  );
}
