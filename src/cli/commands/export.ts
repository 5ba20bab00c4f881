import { randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { certificateFiles, revocationReason, revokeCertificate } from '../../engine/index.ts';
import { withSession } from '../session.ts';

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('write cert.pem, chain.pem, fullchain.pem, privkey.pem, cert.der, and cert.pfx when there is a PFX password')
    .argument('<name>', 'the certificate')
    .requiredOption('--out <dir>', 'directory to write the files to (created if missing)')
    .option('--pfx-password <password>', 'password for cert.pfx (default: the one stored with the certificate)')
    .action(async (name: string, options: { out: string; pfxPassword?: string }, command: Command) => {
      await withSession(command.optsWithGlobals(), async (session) => {
        const files = await certificateFiles(session.engine, session.subscriptionId, name, options.pfxPassword);
        await mkdir(options.out, { recursive: true, mode: 0o755 });
        const written = {
          cert: await writeAtomic(options.out, 'cert.pem', files.cert, 0o644),
          chain: await writeAtomic(options.out, 'chain.pem', files.chain, 0o644),
          fullchain: await writeAtomic(options.out, 'fullchain.pem', files.fullchain, 0o644),
          ...(files.key ? { key: await writeAtomic(options.out, 'privkey.pem', files.key, 0o600) } : {}),
          der: await writeAtomic(options.out, 'cert.der', files.der, 0o644),
          ...(files.pfx ? { pfx: await writeAtomic(options.out, 'cert.pfx', files.pfx, 0o600) } : {}),
        };
        if (!files.key) session.output.note('no privkey.pem: this certificate was issued for your own CSR, and you hold its key');
        else if (!files.pfx) session.output.note('no cert.pfx: give --pfx-password P to write one');
        session.output.result({ name, files: written }, [`wrote ${name} to ${options.out}:`, ...Object.values(written).map((f) => `  ${f}`)]);
      });
    });

  program
    .command('revoke')
    .description("revoke a certificate's current version at its CA")
    .argument('<name>', 'the certificate')
    .option('--reason <reason>', 'unspecified | keyCompromise | affiliationChanged | superseded | cessationOfOperation')
    .action(async (name: string, options: { reason?: string }, command: Command) => {
      const reason = revocationReason(options.reason);
      await withSession(command.optsWithGlobals(), async (session) => {
        const { serial } = await revokeCertificate(session.engine, session.subscriptionId, name, reason);
        session.output.result({ name, serial, revoked: true, reason: options.reason ?? 'unspecified' }, `✔ revoked ${name} (serial ${serial})`);
      });
    });
}

/** Readers never see a half-written file: write beside it, then rename over it. */
async function writeAtomic(directory: string, name: string, content: string | Uint8Array, mode: number): Promise<string> {
  const path = join(directory, name);
  const temporary = join(directory, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
  await writeFile(temporary, content, { mode });
  await rename(temporary, path);
  return path;
}
