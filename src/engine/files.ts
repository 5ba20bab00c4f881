// A certificate's files, in every format users ask for (PEM parts, DER, PKCS#12).
import { certificateDer, type ExportFiles, pemBundle, privateKeyFromPem, splitPemChain, toPkcs12 } from '../pki/index.ts';
import { type CertificateRow, findCertificate, getVersion, type VersionRow } from '../store/repositories/certificates.ts';
import type { EngineContext } from './context.ts';
import type { DeployFormat, VersionBundle } from '../deploy/index.ts';
import { ConflictError, NotFoundError, UsageError } from '../errors.ts';
import { versionKeyAad } from './issuance.ts';
import { mustFindCertificate } from './lookups.ts';

export interface CertificateFiles extends Omit<ExportFiles, 'key'> {
  /** The private key, PEM; absent when the client sent its own CSR and holds the key itself. */
  key?: string;
  der: Uint8Array;
  /** PKCS#12; absent when there is no password to protect it with. */
  pfx?: Uint8Array;
}

export const pfxPasswordAad = (certificateId: string) => `certificate:${certificateId}:pfx_password`;

export async function currentVersion(ctx: EngineContext, subscriptionId: string, name: string): Promise<{ certificate: CertificateRow; version: VersionRow }> {
  const certificate = await mustFindCertificate(ctx, subscriptionId, name);
  const version = certificate.current_version_id ? await getVersion(ctx.store.db, certificate.current_version_id) : undefined;
  if (!version) throw new NotFoundError(`certificate "${name}" has not been issued yet (state: ${certificate.state}); its files exist once an order for it is valid`);
  return { certificate, version };
}

/** The PFX password is the one given, else the one stored with the certificate. */
export async function certificateFiles(ctx: EngineContext, subscriptionId: string, name: string, pfxPassword?: string): Promise<CertificateFiles> {
  const { certificate, version } = await currentVersion(ctx, subscriptionId, name);
  return filesOf(ctx, certificate, version, pfxPassword);
}

/**
 * One version's files, the current one or an older one (e.g. named by a download
 * link made before a renewal); undefined when the certificate or that version of
 * it is gone.
 */
export async function versionFiles(
  ctx: EngineContext,
  subscriptionId: string,
  name: string,
  versionId: string,
): Promise<{ certificate: CertificateRow; files: CertificateFiles } | undefined> {
  const certificate = await findCertificate(ctx.store.db, subscriptionId, name);
  const version = certificate ? await getVersion(ctx.store.db, versionId) : undefined;
  if (!certificate || !version || version.certificate_id !== certificate.id) return undefined;
  return { certificate, files: await filesOf(ctx, certificate, version) };
}

/** The PFX password stored with the certificate, if it has one. */
export function storedPfxPassword(ctx: EngineContext, certificate: CertificateRow): string | undefined {
  return certificate.pfx_password_enc ? ctx.store.secrets.decryptString(certificate.pfx_password_enc, pfxPasswordAad(certificate.id)) : undefined;
}

/**
 * One version as the deploy library takes it: the PEM parts and, for the pfx
 * format, the PKCS#12 made under the certificate's stored PFX password. Throws
 * naming what is missing: the key (the client sent its own CSR) or the password.
 */
export async function deploymentBundle(ctx: EngineContext, certificate: CertificateRow, version: VersionRow, format: DeployFormat): Promise<VersionBundle> {
  if (version.key_enc === '') {
    throw new ConflictError(`certificate "${certificate.name}" was issued for the client's own CSR: certkeep holds no key to deploy`);
  }
  if (format === 'pfx' && !certificate.pfx_password_enc) throw missingPfxPassword(certificate.name);
  const files = await filesOf(ctx, certificate, version, undefined, format === 'pfx');
  return {
    certificateName: certificate.name,
    names: certificate.identifiers.map((identifier) => identifier.value),
    serial: version.serial,
    versionId: version.id,
    certPem: files.cert,
    chainPem: files.chain,
    fullchainPem: files.fullchain,
    keyPem: files.key ?? '',
    pfx: files.pfx,
  };
}

/** The pfx format needs a password to protect the key with, stored with the certificate. */
export function missingPfxPassword(name: string): UsageError {
  return new UsageError(`pfxPassword: the pfx format protects the key with the certificate's PFX password, and "${name}" has none; set one`, 'pfxPassword');
}

async function filesOf(ctx: EngineContext, certificate: CertificateRow, version: VersionRow, pfxPassword?: string, withPfx = true): Promise<CertificateFiles> {
  const password = withPfx ? pfxPassword || storedPfxPassword(ctx, certificate) : undefined;
  if (version.key_enc === '') return withoutKey(version.chain_pem);
  const key = privateKeyFromPem(ctx.store.secrets.decryptString(version.key_enc, versionKeyAad(version.id)));
  const files = pemBundle(version.chain_pem, key);
  return {
    ...files,
    der: certificateDer(files.cert),
    pfx: password ? await toPkcs12({ chainPem: version.chain_pem, key, password, friendlyName: certificate.name }) : undefined,
  };
}

function withoutKey(chainPem: string): CertificateFiles {
  const [cert, ...intermediates] = splitPemChain(chainPem);
  const chain = intermediates.join('');
  return { cert, chain, fullchain: cert + chain, der: certificateDer(cert) };
}
