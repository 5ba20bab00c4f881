// nginx (Debian's /usr/sbin/nginx) serving a directory on loopback, for
// webroot http-01 and agent tests, and with `tls` also HTTPS from certificate
// files the test names (for deploy tests; then with a master process, so that
// `reloadCommand` can reload it). Every path it writes in a temp dir.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../src/rig/ports.ts';
import { tempDir } from './tmp.ts';

export interface NginxOptions {
  /** The directory served at / (any Host). */
  root: string;
  port?: number;
  /** Also serve HTTPS on a port of its own from these files (read again at each reload). */
  tls?: { certificateFile: string; keyFile: string };
  /** The HTTPS server passes every other request to this URL, as a reverse proxy in front of certkeep serve does. */
  proxyTo?: string;
}

export interface Nginx {
  port: number;
  /** The HTTPS port, when started with `tls`. */
  tlsPort?: number;
  configFile: string;
  /** `nginx -t`, then `nginx -s reload`: exits non-zero when the config is broken. */
  reloadCommand: string;
  stop(): Promise<void>;
}

const BINARY = '/usr/sbin/nginx';

const START_TIMEOUT_MS = 10_000;

export async function startNginx(opts: NginxOptions): Promise<Nginx> {
  const prefix = await tempDir('certkeep-nginx-');
  try {
    const port = opts.port ?? (await freePort());
    const tlsPort = opts.tls ? await freePort() : undefined;
    const conf = join(prefix.path, 'nginx.conf');
    // Readiness asks for this marker, so another server on the port cannot pass for this one.
    const marker = randomBytes(8).toString('hex');
    await writeFile(
      conf,
      renderConf(prefix.path, opts.root, port, marker, opts.tls && { ...opts.tls, port: tlsPort!, proxyTo: opts.proxyTo }),
    );
    const args = ['-p', `${prefix.path}/`, '-c', conf, '-e', join(prefix.path, 'error.log')];
    const child = spawn(BINARY, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.once('error', (error) => {
      stderr += `cannot start /usr/sbin/nginx: ${error.message} (install nginx)\n`;
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4096);
    });
    await waitUntilServing(child, port, marker, async () => `${stderr}${await readErrorLog(prefix.path)}`);
    const nginx = `${BINARY} ${args.join(' ')}`;
    return {
      port,
      tlsPort,
      configFile: conf,
      reloadCommand: `${nginx} -t -q && ${nginx} -s reload`,
      async stop() {
        await stopProcess(child);
        await prefix.remove();
      },
    };
  } catch (error) {
    await prefix.remove();
    throw error;
  }
}

function renderConf(
  prefix: string,
  root: string,
  port: number,
  marker: string,
  tls?: { certificateFile: string; keyFile: string; port: number; proxyTo?: string },
): string {
  // Unbuffered, with a long read timeout: the event streams pass as they are written.
  const proxy = tls?.proxyTo
    ? `
    location / {
      proxy_pass ${tls.proxyTo};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_read_timeout 300s;
    }`
    : '';
  const temp = (name: string) => `${name}_temp_path ${join(prefix, name)};`;
  const https = tls
    ? `
  server {
    listen 127.0.0.1:${tls.port} ssl;
    server_name _;
    ssl_certificate ${JSON.stringify(tls.certificateFile)};
    ssl_certificate_key ${JSON.stringify(tls.keyFile)};
    location = /.certkeep-rig-ready { return 200 "${marker}"; }${proxy}
  }`
    : '';
  return `daemon off;
master_process ${tls ? 'on' : 'off'};
worker_processes 1;
pid ${join(prefix, 'nginx.pid')};
events { worker_connections 64; }
http {
  access_log off;
  ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp).join('\n  ')}
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:${port};
    server_name _;
    root ${JSON.stringify(root)};
    location = /.certkeep-rig-ready { return 200 "${marker}"; }
  }${https}
}
`;
}

async function waitUntilServing(
  child: ChildProcess,
  port: number,
  marker: string,
  log: () => Promise<string>,
): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
      throw new Error(
        `nginx exited (${child.signalCode ?? `code ${child.exitCode}`}) before serving:\n${await log()}`,
      );
    }
    if ((await readyMarker(port)) === marker) return;
    // nginx keeps retrying a busy port for a while; its [emerg] line is the answer already.
    const text = await log();
    if (/\[emerg\]/.test(text) || Date.now() > deadline) {
      await stopProcess(child);
      throw new Error(`nginx did not start on port ${port}:\n${text}`);
    }
    await sleep(15);
  }
}

function readyMarker(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/.certkeep-rig-ready', timeout: 500 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve(body));
      res.on('error', () => resolve(undefined));
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

async function readErrorLog(prefix: string): Promise<string> {
  return readFile(join(prefix, 'error.log'), 'utf8').catch(() => '');
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
