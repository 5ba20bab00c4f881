// What `certkeep demo` runs on this machine alone: BIND serving a test zone
// whose names resolve to 127.0.0.1, and Pebble (a test ACME CA) validating
// through it, both on loopback (src/rig); and the check that an issued chain
// leads to Pebble's root.
import { X509Certificate } from 'node:crypto';
import { splitPemChain } from '../pki/index.ts';
import { startBind } from '../rig/bind.ts';
import { startPebble } from '../rig/pebble.ts';
import { freePort } from '../rig/ports.ts';

export interface DemoCa {
  /** BIND's host:port. */
  dnsAddress: string;
  directoryUrl: string;
  /** The trust anchor for Pebble's HTTPS, as a file (for --ca-cert). */
  caCertFile: string;
  /** The port Pebble's validation connects to for HTTP-01: where the demo's responder listens. */
  httpPort: number;
  /** The roots Pebble signs with (new on every start). */
  rootsPem(): Promise<string>;
  stop(): Promise<void>;
}

/** BIND with `zone`, then Pebble validating through it; stop() stops both. */
export async function startDemoCa(zone: string): Promise<DemoCa> {
  const bind = await startBind({ zones: [zone] });
  try {
    const httpPort = await freePort();
    const pebble = await startPebble({ dnsServer: bind.address, httpPort });
    return {
      dnsAddress: bind.address,
      directoryUrl: pebble.directoryUrl,
      caCertFile: pebble.caCertFile,
      httpPort,
      rootsPem: () => pebble.rootsPem(),
      async stop() {
        await pebble.stop();
        await bind.stop();
      },
    };
  } catch (error) {
    await bind.stop();
    throw error;
  }
}

/** Each certificate of the chain is signed by the next; the last by one of the roots. */
export function chainLeadsTo(fullchainPem: string, rootsPem: string): boolean {
  const chain = splitPemChain(fullchainPem).map((pem) => new X509Certificate(pem));
  const roots = splitPemChain(rootsPem).map((pem) => new X509Certificate(pem));
  for (let i = 0; i + 1 < chain.length; i++) {
    if (!chain[i].verify(chain[i + 1].publicKey)) return false;
  }
  const last = chain[chain.length - 1];
  return roots.some((root) => last.checkIssued(root) && last.verify(root.publicKey));
}
