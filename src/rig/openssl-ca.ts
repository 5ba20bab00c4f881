// A throwaway CA and a loopback server certificate made with the openssl CLI,
// for test services that must speak HTTPS (Pebble's ACME and management APIs).
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface LoopbackTls {
  caCertPem: string;
  caCertFile: string;
  certFile: string;
  keyFile: string;
}

/** Writes ca.pem/ca.key and a P-256 leaf for 127.0.0.1 and localhost (IP and DNS SANs) into `dir`. */
export async function makeLoopbackTls(dir: string, caName = 'certkeep rig CA'): Promise<LoopbackTls> {
  const caCertFile = join(dir, 'tls-ca.pem');
  const caKeyFile = join(dir, 'tls-ca.key');
  const certFile = join(dir, 'tls-cert.pem');
  const keyFile = join(dir, 'tls-key.pem');
  await openssl([
    'req',
    '-x509',
    ...newEcKey(caKeyFile),
    '-out',
    caCertFile,
    '-days',
    '30',
    '-subj',
    `/CN=${caName}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await openssl([
    'req',
    '-x509',
    ...newEcKey(keyFile),
    '-out',
    certFile,
    '-days',
    '30',
    '-subj',
    '/CN=localhost',
    '-CA',
    caCertFile,
    '-CAkey',
    caKeyFile,
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-addext',
    'extendedKeyUsage=serverAuth',
    '-addext',
    'basicConstraints=critical,CA:FALSE',
  ]);
  return { caCertPem: await readFile(caCertFile, 'utf8'), caCertFile, certFile, keyFile };
}

function newEcKey(keyFile: string): string[] {
  return ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile];
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(
      `openssl ${args[0]} failed while making the rig's TLS certificate: ${stderr.trim() || err}`,
    );
  }
}
