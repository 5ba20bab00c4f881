// nginx (Debian's /usr/sbin/nginx) serving a directory on loopback, for
// webroot http-01 and agent tests. One process (master_process off), every
// path it writes in a temp dir.
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
}

export interface Nginx {
  port: number;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;

export async function startNginx(opts: NginxOptions): Promise<Nginx> {
  const prefix = await tempDir('certkeep-nginx-');
  try {
    const port = opts.port ?? (await freePort());
    const conf = join(prefix.path, 'nginx.conf');
    // Readiness asks for this marker, so another server on the port cannot pass for this one.
    const marker = randomBytes(8).toString('hex');
    await writeFile(conf, renderConf(prefix.path, opts.root, port, marker));
    const child = spawn(
      '/usr/sbin/nginx',
      ['-p', `${prefix.path}/`, '-c', conf, '-e', join(prefix.path, 'error.log')],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.once('error', (error) => {
      stderr += `cannot start /usr/sbin/nginx: ${error.message} (install nginx)\n`;
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4096);
    });
    await waitUntilServing(child, port, marker, async () => `${stderr}${await readErrorLog(prefix.path)}`);
    return {
      port,
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

function renderConf(prefix: string, root: string, port: number, marker: string): string {
  const temp = (name: string) => `${name}_temp_path ${join(prefix, name)};`;
  return `daemon off;
master_process off;
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
  }
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
