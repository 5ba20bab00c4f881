// The variables a hook or reload command sees. certbot's and lego's names carry what those tools put
// in them, so a hook script written for either runs unchanged:
// - certbot: RENEWED_LINEAGE is the live directory holding cert.pem, chain.pem, fullchain.pem and
//   privkey.pem; RENEWED_DOMAINS the certificate's names, separated by spaces.
// - lego v4: LEGO_CERT_DOMAIN the main (first) name; LEGO_CERT_PATH the certificate with its chain
//   (lego bundles by default); LEGO_CERT_KEY_PATH the key; LEGO_ISSUER_CERT_PATH the chain;
//   LEGO_CERT_PEM_PATH and LEGO_CERT_PFX_PATH the combined and PKCS#12 files when written.
//   lego v5 renamed them LEGO_HOOK_* (CERT_NAME, CERT_DOMAINS comma-separated, CERT_PATH, …).
// A path is only set when the format writes that file. certkeep's own settings in the environment
// (CERTKEEP_MASTER_KEY, CERTKEEP_AGENT_TOKEN, a database URL with its password…) are not passed on.
import { layoutPaths } from './layout.ts';
import type { DeployFormat } from './types.ts';

export interface CommandContext {
  directory: string;
  format: DeployFormat;
  certificateName?: string;
  names: string[];
  serial?: string;
  versionId?: string;
  /** The command runs to bring the previous version back. */
  rollback: boolean;
}

export function commandEnvironment(context: CommandContext): Record<string, string> {
  const paths = context.certificateName
    ? layoutPaths(context.format, context.directory, context.certificateName)
    : {};
  const main = context.names[0];
  const env: Record<string, string | undefined> = {
    RENEWED_LINEAGE: context.directory,
    RENEWED_DOMAINS: context.names.join(' '),
    LEGO_CERT_DOMAIN: main,
    LEGO_CERT_PATH: paths.cert,
    LEGO_CERT_KEY_PATH: paths.key,
    LEGO_ISSUER_CERT_PATH: paths.issuer,
    LEGO_CERT_PEM_PATH: paths.combined,
    LEGO_CERT_PFX_PATH: paths.pfx,
    LEGO_HOOK_CERT_NAME: context.certificateName,
    LEGO_HOOK_CERT_DOMAINS: context.names.join(','),
    LEGO_HOOK_CERT_PATH: paths.cert,
    LEGO_HOOK_CERT_KEY_PATH: paths.key,
    LEGO_HOOK_ISSUER_CERT_PATH: paths.issuer,
    LEGO_HOOK_CERT_PEM_PATH: paths.combined,
    LEGO_HOOK_CERT_PFX_PATH: paths.pfx,
    CERTKEEP_CERTIFICATE: context.certificateName,
    CERTKEEP_NAMES: context.names.join(' '),
    CERTKEEP_SERIAL: context.serial,
    CERTKEEP_VERSION_ID: context.versionId,
    CERTKEEP_DIRECTORY: context.directory,
    CERTKEEP_FORMAT: context.format,
    CERTKEEP_CERT_PATH: paths.cert,
    CERTKEEP_KEY_PATH: paths.key,
    CERTKEEP_CHAIN_PATH: paths.issuer,
    CERTKEEP_PEM_PATH: paths.combined,
    CERTKEEP_PFX_PATH: paths.pfx,
    CERTKEEP_ROLLBACK: context.rollback ? '1' : '0',
  };
  return { ...inherited(), ...defined(env) };
}

function inherited(): Record<string, string> {
  return defined(
    Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('CERTKEEP_'))),
  );
}

function defined(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}
