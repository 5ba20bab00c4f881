// Test certificates for deployments: a root and an intermediate made with openssl, and leaves with
// distinct serials and keys, handed out as the version bundles a caller of src/deploy prepares.
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { privateKeyFromPem, toPkcs12 } from '../../src/pki/index.ts';
import type { VersionBundle } from '../../src/deploy/index.ts';
import { openssl } from '../pki/openssl.ts';

export const PFX_PASSWORD = 'deploy-test';

export interface TestCa {
  /** A new leaf for `names`, signed by the intermediate, with a fresh key and a random serial. */
  issue(names: string[], opts?: { certificateName?: string; withPfx?: boolean }): Promise<VersionBundle>;
}

export async function makeTestCa(dir: string): Promise<TestCa> {
  const path = (name: string) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await openssl([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    path('root.key'),
    '-out',
    path('root.pem'),
    '-days',
    '30',
    '-subj',
    '/CN=certkeep deploy test root',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
  ]);
  await openssl([
    'req',
    ...ec,
    '-keyout',
    path('int.key'),
    '-out',
    path('int.csr'),
    '-subj',
    '/CN=certkeep deploy test intermediate',
  ]);
  await writeFile(
    path('int.ext'),
    'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n',
  );
  await openssl([
    'x509',
    '-req',
    '-in',
    path('int.csr'),
    '-CA',
    path('root.pem'),
    '-CAkey',
    path('root.key'),
    '-set_serial',
    '0x100',
    '-days',
    '30',
    '-extfile',
    path('int.ext'),
    '-out',
    path('int.pem'),
  ]);
  const intermediatePem = await readFile(path('int.pem'), 'utf8');
  let count = 0;
  return {
    async issue(names, opts = {}) {
      const id = `leaf${++count}`;
      // A positive serial whose first byte is not zero, so its hex has no leading zeros to argue about.
      const serial = `${(0x10 + (randomBytes(1)[0] % 0x60)).toString(16)}${randomBytes(9).toString('hex')}`;
      await openssl([
        'req',
        ...ec,
        '-keyout',
        path(`${id}.key`),
        '-out',
        path(`${id}.csr`),
        '-subj',
        `/CN=${names[0]}`,
      ]);
      const sans = names.map((name) => (/^[\d.]+$/.test(name) ? `IP:${name}` : `DNS:${name}`)).join(',');
      await writeFile(
        path(`${id}.ext`),
        `subjectAltName=${sans}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`,
      );
      await openssl([
        'x509',
        '-req',
        '-in',
        path(`${id}.csr`),
        '-CA',
        path('int.pem'),
        '-CAkey',
        path('int.key'),
        '-set_serial',
        `0x${serial}`,
        '-days',
        '10',
        '-extfile',
        path(`${id}.ext`),
        '-out',
        path(`${id}.pem`),
      ]);
      const certPem = await readFile(path(`${id}.pem`), 'utf8');
      const keyPem = await readFile(path(`${id}.key`), 'utf8');
      const certificateName = opts.certificateName ?? names[0];
      const pfx = opts.withPfx
        ? await toPkcs12({
            chainPem: certPem + intermediatePem,
            key: privateKeyFromPem(keyPem),
            password: PFX_PASSWORD,
            friendlyName: certificateName,
          })
        : undefined;
      return {
        certificateName,
        names,
        serial,
        versionId: `v-${serial.slice(0, 8)}`,
        certPem,
        chainPem: intermediatePem,
        fullchainPem: certPem + intermediatePem,
        keyPem,
        pfx,
      };
    },
  };
}
