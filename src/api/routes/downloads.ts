// GET /dl/<token>/<file name>: a file named by a signed link (download-links.ts).
// Public: the token is the authorization. Errors are short text, as the
// programs that fetch these links expect: 404 for a link that was altered or
// made up, 410 for one that expired or whose certificate was deleted or revoked.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { type Engine, versionFiles } from '../../engine/index.ts';
import { DOWNLOAD_FORMATS, fileName, openDownloadToken } from '../download-links.ts';

const Params = Type.Object({ '*': Type.String({ maxLength: 4096 }) });

export async function downloadRoutes(app: FastifyInstance, options: { engine: Engine }): Promise<void> {
  const { engine: ctx } = options;
  app.get<{ Params: { '*': string } }>(
    '/dl/*',
    {
      schema: {
        params: Params,
        tags: ['downloads'],
        security: [],
        summary: 'A certificate file named by a signed, expiring link (no API key)',
        produces: [...new Set(Object.values(DOWNLOAD_FORMATS).map((format) => format.contentType.split(';')[0]))],
        response: {
          200: Type.String({ description: 'the file: PEM text, or DER and PKCS#12 bytes', format: 'binary' }),
          404: textResponse('the link was altered or made up, or this certificate has no such file'),
          410: textResponse('the link expired, or its certificate was deleted or revoked'),
        },
      },
    },
    async (request, reply) => {
      // The part after the token is the file name, for the client's sake only.
      const token = request.params['*'].split('/')[0];
      const opened = openDownloadToken(ctx.store.secrets, token, ctx.clock.now());
      if ('refused' in opened) {
        return opened.refused === 'expired'
          ? text(reply, 410, 'this download link has expired; get the certificate again for fresh links')
          : text(reply, 404, 'no such download: the link is incomplete or was altered');
      }
      const { grant } = opened;
      const found = await versionFiles(ctx, grant.subscriptionId, grant.name, grant.versionId);
      if (!found) return text(reply, 410, `certificate "${grant.name}" (this version of it) was deleted`);
      if (found.certificate.state === 'revoked') return text(reply, 410, `certificate "${grant.name}" was revoked`);
      const spec = DOWNLOAD_FORMATS[grant.format];
      const body = spec.body(found.files);
      if (body === undefined) {
        const why = spec.secret && found.files.key === undefined ? "was issued for the client's own CSR: certkeep holds no key" : 'has no PFX password';
        return text(reply, 404, `certificate "${grant.name}" ${why}`);
      }
      return reply
        .type(spec.contentType)
        .header('content-disposition', `attachment; filename="${fileName(grant.name, grant.format)}"`)
        .header('cache-control', 'no-store')
        .send(typeof body === 'string' ? body : Buffer.from(body));
    },
  );
}

function textResponse(description: string) {
  return { description, content: { 'text/plain': { schema: Type.String({ description: 'what went wrong, in a sentence' }) } } };
}

function text(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(message);
}
