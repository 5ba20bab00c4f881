// list and show: what certkeep holds.
import type { Command } from 'commander';
import { certificateHistory, certificateSummary, listCertificateSummaries, mustFindCertificate } from '../../engine/index.ts';
import { isoOrDash, table } from '../output.ts';
import { withSession } from '../session.ts';

const DAY = 86_400_000;

export function registerInspect(program: Command): void {
  program
    .command('list')
    .description('the certificates certkeep manages')
    .action(async (_options, command: Command) => {
      await withSession(command.optsWithGlobals(), async (session) => {
        const summaries = await listCertificateSummaries(session.engine, session.subscriptionId);
        const now = session.engine.clock.now();
        session.output.result(
          { certificates: summaries },
          summaries.length === 0
            ? 'no certificates yet; get one with: certkeep issue -d example.com'
            : table([
                ['NAME', 'STATE', 'EXPIRES', 'DAYS', 'NAMES'],
                ...summaries.map((s) => [
                  s.name,
                  s.state,
                  s.notAfter ?? '-',
                  s.notAfter ? String(Math.floor((Date.parse(s.notAfter) - now) / DAY)) : '-',
                  s.names.join(','),
                ]),
              ]),
        );
      });
    });

  program
    .command('show')
    .description('one certificate: names, versions, orders, renewal')
    .argument('<name>', 'the certificate')
    .action(async (name: string, _options, command: Command) => {
      await withSession(command.optsWithGlobals(), async (session) => {
        const certificate = await mustFindCertificate(session.engine, session.subscriptionId, name);
        const { versions, orders } = await certificateHistory(session.engine, certificate);
        const document = {
          ...(await certificateSummary(session.engine, certificate)),
          challenge: certificate.challenge_type,
          keyType: certificate.key_type,
          preferredChain: certificate.preferred_chain,
          issuers: certificate.issuers.map((i) => ({ caUrl: i.caUrl, email: i.email })),
          renewalPolicy: certificate.renewal_policy,
          lastError: certificate.last_error,
          versions: versions.map((v) => ({ id: v.id, serial: v.serial, notBefore: isoOrDash(v.not_before), notAfter: isoOrDash(v.not_after), ca: v.ca_url, current: v.id === certificate.current_version_id })),
          orders: orders.map((o) => ({ id: o.id, step: o.step, url: o.order_url, error: o.error, created: isoOrDash(o.created_at) })),
        };
        session.output.result(document, [
          `${document.name}  (${document.state})`,
          `  names        ${document.names.join(', ')}`,
          `  expires      ${document.notAfter ?? '-'}`,
          `  renews from  ${document.nextRenewalAt ?? '-'}`,
          `  challenge    ${document.challenge}, key ${document.keyType}`,
          `  CA           ${document.issuers.map((i) => i.caUrl).join(' then ')}`,
          ...(document.preferredChain ? [`  chain        the one issued by "${document.preferredChain}", when the CA offers it`] : []),
          ...(document.lastError ? [`  last error   ${document.lastError}`] : []),
          `  versions     ${versions.length === 0 ? 'none' : ''}`,
          ...document.versions.map((v) => `    ${v.current ? '*' : ' '} ${v.serial}  ${v.notBefore} → ${v.notAfter}`),
          `  orders`,
          ...document.orders.map((o) => `      ${o.created}  ${o.step}  ${o.url ?? ''}${o.error ? `  (${o.error})` : ''}`),
        ]);
      });
    });
}
