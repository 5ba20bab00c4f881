// HAProxy (Debian's /usr/sbin/haproxy) terminating TLS on loopback with one combined PEM file (full
// chain then key), in master-worker mode in the foreground (-W -db), reloaded with SIGUSR2 to its master.
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../../src/rig/ports.ts';
import { inTempDir, startTiedServer } from './tied-server.ts';

const BINARY = '/usr/sbin/haproxy';

export interface HaproxyOptions {
  /** The `crt` file: full chain then key. */
  pemFile: string;
}

export interface Haproxy {
  /** The HTTPS port on 127.0.0.1. */
  port: number;
  configFile: string;
  /** Checks the config, then sends SIGUSR2 to the master; exits non-zero when the config is broken. */
  reloadCommand: string;
  stop(): Promise<void>;
}

export function startHaproxy(opts: HaproxyOptions): Promise<Haproxy> {
  return inTempDir('certkeep-haproxy-', async (prefix) => {
    const marker = randomBytes(8).toString('hex');
    const port = await freePort();
    const configFile = join(prefix, 'haproxy.cfg');
    const pidFile = join(prefix, 'haproxy.pid');
    await writeFile(configFile, renderConf(port, opts.pemFile, marker));
    const server = await startTiedServer({
      name: 'haproxy',
      binary: BINARY,
      args: ['-W', '-db', '-f', configFile, '-p', pidFile],
      cwd: prefix,
      port,
      readyPath: '/.certkeep-rig-ready',
      marker,
    });
    return {
      port,
      configFile,
      reloadCommand: `${BINARY} -c -f ${configFile} && kill -USR2 "$(cat ${pidFile})"`,
      stop: server.stop,
    };
  });
}

function renderConf(port: number, pemFile: string, marker: string): string {
  return `global
  maxconn 256

defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s

frontend tls
  bind 127.0.0.1:${port} ssl crt ${pemFile}
  http-request return status 200 content-type text/plain string "${marker}" if { path /.certkeep-rig-ready }
  http-request return status 404
`;
}
