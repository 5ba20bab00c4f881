// nginx, Apache and HAProxy as deploy tests start them: each with a config that reads the files a
// deployment puts at DIR (certbot's names, or HAProxy's combined PEM), a reload command that checks
// the config first, and a line that breaks the config. Used by the deploy library's tests and by
// the CLI's delivery tests.
import { join } from 'node:path';
import { type DeployFormat, fileBase } from '../../src/deploy/index.ts';
import { startApache } from './apache.ts';
import { startHaproxy } from './haproxy.ts';
import { startNginx } from './nginx.ts';

export interface WebServer {
  /** The HTTPS port on 127.0.0.1. */
  port: number;
  configFile: string;
  reloadCommand: string;
  stop(): Promise<void>;
}

export interface WebServerCase {
  name: string;
  format: DeployFormat;
  /** Starts the server with a config that reads the files deployed at `directory`. */
  start(directory: string, certificateName: string): Promise<WebServer>;
  /** A line that makes the server's config test fail. */
  brokenLine: string;
}

export const NGINX: WebServerCase = {
  name: 'nginx',
  format: 'pem',
  brokenLine: 'bogus_directive on;',
  async start(directory) {
    const nginx = await startNginx({
      root: directory,
      tls: { certificateFile: join(directory, 'fullchain.pem'), keyFile: join(directory, 'privkey.pem') },
    });
    return { ...nginx, port: nginx.tlsPort! };
  },
};

export const APACHE: WebServerCase = {
  name: 'apache',
  format: 'pem',
  brokenLine: 'BogusDirective on',
  start: (directory) =>
    startApache({
      certificateFile: join(directory, 'fullchain.pem'),
      keyFile: join(directory, 'privkey.pem'),
    }),
};

export const HAPROXY: WebServerCase = {
  name: 'haproxy',
  format: 'combined',
  brokenLine: '  bogus-keyword on',
  start: (directory, certificateName) =>
    startHaproxy({ pemFile: join(directory, `${fileBase(certificateName)}.pem`) }),
};
