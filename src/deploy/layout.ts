// Which files a format writes, under which names and modes: certbot's names for pem, one
// full-chain-then-key file as HAProxy loads it for combined, the caller's PKCS#12 for pfx.
import { join } from 'node:path';
import type { DeployFormat, VersionBundle } from './types.ts';

export interface LayoutFile {
  name: string;
  content: string | Uint8Array;
  /** Holds the private key: written 0600. */
  secret: boolean;
}

export function layoutFiles(format: DeployFormat, bundle: VersionBundle): LayoutFile[] {
  const base = fileBase(bundle.certificateName);
  switch (format) {
    case 'pem':
      return [
        { name: 'cert.pem', content: bundle.certPem, secret: false },
        { name: 'chain.pem', content: bundle.chainPem, secret: false },
        { name: 'fullchain.pem', content: bundle.fullchainPem, secret: false },
        { name: 'privkey.pem', content: bundle.keyPem, secret: true },
      ];
    case 'combined':
      return [
        { name: `${base}.pem`, content: withNewline(bundle.fullchainPem) + bundle.keyPem, secret: true },
      ];
    case 'pfx':
      return [{ name: `${base}.pfx`, content: bundle.pfx ?? new Uint8Array(), secret: true }];
  }
}

/** The file paths a hook is told about, as seen through DIR (lego's and certbot's variables point at them). */
export interface LayoutPaths {
  cert?: string;
  key?: string;
  issuer?: string;
  combined?: string;
  pfx?: string;
}

export function layoutPaths(format: DeployFormat, directory: string, certificateName: string): LayoutPaths {
  const base = join(directory, fileBase(certificateName));
  switch (format) {
    case 'pem':
      return {
        cert: join(directory, 'fullchain.pem'),
        key: join(directory, 'privkey.pem'),
        issuer: join(directory, 'chain.pem'),
      };
    case 'combined':
      return { cert: `${base}.pem`, key: `${base}.pem`, combined: `${base}.pem` };
    case 'pfx':
      return { pfx: `${base}.pfx` };
  }
}

/** A certificate name as a file name: a wildcard's '*' and anything unsafe become '_' (as lego does). */
export function fileBase(certificateName: string): string {
  const safe = certificateName.replace(/[^A-Za-z0-9._-]/g, '_');
  return /^\.+$/.test(safe) ? safe.replaceAll('.', '_') : safe;
}

function withNewline(pem: string): string {
  return pem.endsWith('\n') ? pem : `${pem}\n`;
}
