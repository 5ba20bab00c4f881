// Which of the CA's chains a new certificate version keeps (RFC 8555 §7.4.2):
// the CA's default, unless the certificate prefers an issuer — then the first
// chain, default first and alternates in the CA's order, whose top certificate
// that issuer CN signed, matched exactly as certbot and lego match it. When
// none matches, the default.
import type { AcmeClient } from '../acme/index.ts';
import { sameLeaf, topIssuerName } from '../pki/index.ts';
import type { ProgressListener } from './context.ts';

export async function downloadPreferredChain(client: AcmeClient, url: string, preferred: string | null, progress: ProgressListener): Promise<string> {
  const { pem, alternates } = await client.downloadCertificate(url);
  if (preferred === null || topIssuerName(pem) === preferred) return pem;
  for (const alternate of alternates) {
    const chain = (await client.downloadCertificate(alternate)).pem;
    if (topIssuerName(chain) === preferred && sameLeaf(pem, chain)) return chain;
  }
  progress(`no chain from the CA is issued by "${preferred}"; keeping its default chain (issued by "${topIssuerName(pem) ?? 'no CN'}")`);
  return pem;
}
