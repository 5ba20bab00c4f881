// Asking a TLS server on loopback what it serves: a page (rig readiness markers) or its leaf's serial.
import { request } from 'node:https';
import { connect } from 'node:tls';

/** The body of GET path over HTTPS (any certificate accepted), or undefined when it cannot be had. */
export function httpsText(port: number, path: string, servername?: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path, servername, rejectUnauthorized: false, timeout: 2000, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve(res.statusCode === 200 ? body : undefined));
        res.on('error', () => resolve(undefined));
      },
    );
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** The serial (lower-case hex, no leading zeros) of the leaf served for `servername`. */
export function servedSerial(port: number, servername?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false });
    socket.setTimeout(5000, () => socket.destroy(new Error(`no TLS handshake on port ${port} within 5 s`)));
    socket.once('secureConnect', () => {
      const serial = socket.getPeerCertificate().serialNumber ?? '';
      socket.destroy();
      resolve(serial.toLowerCase().replace(/^0+(?=.)/, ''));
    });
    socket.once('error', reject);
  });
}

/**
 * Waits until `servername` is served `serial` (normalised as servedSerial gives it). Right after a
 * graceful reload an old worker may still accept a connection or two — longer on a loaded machine —
 * so a check after a verified deployment asks until the old workers are gone.
 */
export async function servesSerial(port: number, servername: string, serial: string, timeoutMs = 10_000): Promise<void> {
  const expected = serial.toLowerCase().replace(/^0+(?=.)/, '');
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = await servedSerial(port, servername).catch((error: Error) => `(${error.message})`);
    if (last === expected) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`port ${port} still serves serial ${last} for ${servername}, not ${expected}, after ${timeoutMs / 1000} s`);
}
