// Running the real `openssl` CLI from tests, and a small CA made with it.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs openssl; never throws for a non-zero exit (some tests expect one). */
export function runOpenssl(args: string[], cwd?: string): Promise<Run> {
  // A UTF-8 locale, so that non-ASCII passwords reach openssl as UTF-8.
  const env = { ...process.env, LC_ALL: 'C.UTF-8' };
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { cwd, env, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') return reject(error);
      resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
    });
  });
}

/** Runs openssl and fails with its stderr when it exits non-zero. */
export async function openssl(args: string[], cwd?: string): Promise<string> {
  const run = await runOpenssl(args, cwd);
  if (run.code !== 0) throw new Error(`openssl ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
  return run.stdout;
}

/** The worked example of RFC 9773 §4.1: this AKI keyIdentifier and serial give the CertID below. */
export const RFC9773_EXAMPLE = {
  keyIdentifier: '69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4',
  serial: '0x87654321',
  certId: 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE',
};

export interface TestPki {
  caPem: string;
  leafPem: string;
  leafKeyPem: string;
  /** leaf + CA */
  chainPem: string;
  leafPath: string;
}

/**
 * A root CA (subject "C=US, O=Test, Org, CN=Test CA", SKI from the RFC 9773 example, no AKI)
 * and a leaf it signed with SANs, AKI and the RFC example's serial.
 */
export async function makeTestPki(
  dir: string,
  leafKeyArgs = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
): Promise<TestPki> {
  const path = (name: string) => join(dir, name);
  await openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    path('ca.key'),
    '-out',
    path('ca.pem'),
    '-days',
    '30',
    '-subj',
    '/C=US/O=Test, Org/CN=Test CA',
    '-addext',
    `subjectKeyIdentifier=${RFC9773_EXAMPLE.keyIdentifier}`,
    '-addext',
    'authorityKeyIdentifier=none',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
  ]);
  await openssl([
    'req',
    ...leafKeyArgs,
    '-nodes',
    '-keyout',
    path('leaf.key'),
    '-out',
    path('leaf.csr'),
    '-subj',
    '/CN=leaf.example.test',
  ]);
  await writeFile(
    path('leaf.ext'),
    'subjectAltName=DNS:leaf.example.test,DNS:*.leaf.example.test,IP:192.0.2.7,IP:2001:db8::7\n' +
      'authorityKeyIdentifier=keyid:always\nbasicConstraints=CA:FALSE\n',
  );
  await openssl([
    'x509',
    '-req',
    '-in',
    path('leaf.csr'),
    '-CA',
    path('ca.pem'),
    '-CAkey',
    path('ca.key'),
    '-set_serial',
    RFC9773_EXAMPLE.serial,
    '-days',
    '10',
    '-extfile',
    path('leaf.ext'),
    '-out',
    path('leaf.pem'),
  ]);
  const [caPem, leafPem, leafKeyPem] = await Promise.all(
    ['ca.pem', 'leaf.pem', 'leaf.key'].map((f) => readFile(path(f), 'utf8')),
  );
  return { caPem, leafPem, leafKeyPem, chainPem: leafPem + caPem, leafPath: path('leaf.pem') };
}
