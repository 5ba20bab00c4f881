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
