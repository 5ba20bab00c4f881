// Apache (Debian's /usr/sbin/apache2) serving TLS on loopback from certificate files the test names,
// started with its own -f config in the foreground, workers as www-data, reloaded with -k graceful.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../../src/rig/ports.ts';
import { inTempDir, startTiedServer } from './tied-server.ts';

const BINARY = '/usr/sbin/apache2';
const MODULES = '/usr/lib/apache2/modules';

export interface ApacheOptions {
  /** SSLCertificateFile: the leaf, or the full chain. */
  certificateFile: string;
  /** SSLCertificateKeyFile. */
  keyFile: string;
}

export interface Apache {
  /** The HTTPS port on 127.0.0.1. */
  port: number;
  configFile: string;
  /** Checks the config and reloads gracefully; exits non-zero when the config is broken. */
  reloadCommand: string;
  stop(): Promise<void>;
}

export function startApache(opts: ApacheOptions): Promise<Apache> {
  return inTempDir('certkeep-apache-', async (prefix) => {
    // www-data's workers serve the marker page from under the prefix.
    await chmod(prefix, 0o755);
    await mkdir(join(prefix, 'run'));
    await mkdir(join(prefix, 'htdocs'), { mode: 0o755 });
    const marker = randomBytes(8).toString('hex');
    await writeFile(join(prefix, 'htdocs', 'ready.txt'), marker, { mode: 0o644 });
    const port = await freePort();
    const configFile = join(prefix, 'apache2.conf');
    await writeFile(configFile, renderConf(prefix, port, opts));
    const server = await startTiedServer({
      name: 'apache2',
      binary: BINARY,
      args: ['-f', configFile, '-DFOREGROUND'],
      cwd: prefix,
      port,
      readyPath: '/ready.txt',
      marker,
      errorLog: join(prefix, 'error.log'),
    });
    return {
      port,
      configFile,
      reloadCommand: `${BINARY} -f ${configFile} -t && ${BINARY} -f ${configFile} -k graceful`,
      stop: server.stop,
    };
  });
}

function renderConf(prefix: string, port: number, opts: ApacheOptions): string {
  const module = (name: string) => `LoadModule ${name}_module ${MODULES}/mod_${name}.so`;
  return `ServerRoot ${JSON.stringify(prefix)}
ServerName localhost
DefaultRuntimeDir ${JSON.stringify(join(prefix, 'run'))}
PidFile ${JSON.stringify(join(prefix, 'apache2.pid'))}
ErrorLog ${JSON.stringify(join(prefix, 'error.log'))}
LogLevel warn
User www-data
Group www-data
${['mpm_event', 'authz_core', 'socache_shmcb', 'ssl'].map(module).join('\n')}
StartServers 1
ServerLimit 4
ThreadsPerChild 8
MaxRequestWorkers 32
MinSpareThreads 1
MaxSpareThreads 16
Listen 127.0.0.1:${port}
DocumentRoot ${JSON.stringify(join(prefix, 'htdocs'))}
<Directory ${JSON.stringify(join(prefix, 'htdocs'))}>
  Require all granted
</Directory>
<VirtualHost 127.0.0.1:${port}>
  SSLEngine on
  SSLCertificateFile ${JSON.stringify(opts.certificateFile)}
  SSLCertificateKeyFile ${JSON.stringify(opts.keyFile)}
</VirtualHost>
`;
}
