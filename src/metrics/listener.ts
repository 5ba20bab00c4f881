// `serve --metrics-listen HOST:PORT`: GET /metrics on a listener of its own,
// apart from the API, so that the operator decides who reaches it (a firewall,
// a loopback address) and a scrape never passes the API's keys or rate limit.
import { createServer, type ServerResponse } from 'node:http';
import type { CertkeepMetrics } from './metrics.ts';

export interface MetricsListener {
  /** The port it listens on (the real one when 0 was asked for). */
  port: number;
  close(): Promise<void>;
}

/** Listens on host:port; a port that cannot be opened rejects with the socket's error (EADDRINUSE …). */
export function startMetricsListener(
  metrics: CertkeepMetrics,
  host: string,
  port: number,
  onError: (error: unknown) => void,
): Promise<MetricsListener> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== '/metrics') return reply(response, 404, 'not found: the metrics are at /metrics\n');
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return reply(response, 405, 'method not allowed: GET /metrics\n');
    metrics.scrape().then(
      (text) => {
        response.writeHead(200, {
          'content-type': metrics.contentType,
          'content-length': Buffer.byteLength(text),
        });
        response.end(request.method === 'HEAD' ? undefined : text);
      },
      (error) => {
        onError(error);
        reply(response, 503, 'metrics unavailable: the store did not answer; see the server log\n');
      },
    );
  });
  server.keepAliveTimeout = 5000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.removeListener('error', reject);
      const address = server.address();
      resolve({
        port: typeof address === 'object' && address ? address.port : port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

function reply(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}
