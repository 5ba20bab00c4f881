// Watching a real `certkeep serve` (Pebble, BIND): its log is JSON, one line per
// event, and what an order does is logged with its subscription, certificate and
// order; GET /metrics on --metrics-listen shows the certificate, the order and
// the CA's requests; a metrics address already taken ends serve with one line.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../../src/rig/ports.ts';
import { type Rig, startRig, ZONE } from './harness.ts';
import { eventually, type Server, startServer } from './server.ts';

describe('serve: JSON log and metrics', () => {
  let rig: Rig;
  let server: Server;
  let metricsPort: number;

  before(async () => {
    rig = await startRig();
    metricsPort = await freePort();
    server = await startServer(rig, { args: ['--metrics-listen', `127.0.0.1:${metricsPort}`] });
  });
  after(async () => {
    const code = await server?.stop();
    await rig?.stop();
    assert.equal(code, 0, 'serve exits 0 on SIGTERM');
  });

  test('an order issued over the API: every log line is JSON, the order’s lines name subscription, certificate and order', async () => {
    const tenant = await server.subscription('watched');
    const name = `watch.${ZONE}`;
    const created = await server.call('POST', '/api/v1/certificates', {
      key: tenant.apiKey,
      body: { names: [name] },
    });
    assert.equal(created.status, 202, await created.clone().text());
    const orderId = (await created.json()).order.id;
    const done = await eventually(
      async () => (await server.call('GET', `/api/v1/orders/${orderId}`, { key: tenant.apiKey })).json(),
      (order) => order.status === 'valid' || order.status === 'invalid',
      60_000,
      'order valid',
    );
    assert.equal(done.status, 'valid', JSON.stringify(done));

    const lines = server.output().trim().split('\n');
    const notJson = lines.filter((line) => !isJson(line));
    assert.deepEqual(notJson, [], 'every line of the log is JSON');
    const entries = lines.map((line) => JSON.parse(line));
    assert.ok(
      entries.some(
        (entry) => /^certkeep serving on /.test(entry.msg) && entry.metrics === `127.0.0.1:${metricsPort}`,
      ),
      'the start is a JSON line with its addresses',
    );
    const progress = entries.filter((entry) => entry.order === orderId);
    const messages = progress.map((entry) => entry.msg);
    for (const step of [
      'placing an order for',
      'asking the CA to validate',
      'finalizing the order',
      'downloading the certificate',
    ]) {
      assert.ok(
        messages.some((message) => message.startsWith(step)),
        `"${step}" is logged for the order: ${JSON.stringify(messages)}`,
      );
    }
    for (const entry of progress) {
      assert.equal(entry.subscription, tenant.id);
      assert.equal(entry.certificate, name);
      assert.equal(entry.level, 30, 'progress is info');
    }
  });

  test('GET /metrics shows the issued certificate, the valid order and the requests to the CA', async () => {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const ca = rig.pebble.directoryUrl;
    assert.match(
      text,
      new RegExp(
        `^certkeep_certificate_ready_status\\{subscription="sub_[^"]+",name="watch\\.${ZONE.replace('.', '\\.')}",condition="True"\\} 1$`,
        'm',
      ),
    );
    assert.match(
      text,
      /^certkeep_certificate_expiration_timestamp_seconds\{subscription="sub_[^"]+",name="watch\.example\.test"\} [1-9]\d+$/m,
    );
    assert.match(
      text,
      /^certkeep_certificate_renewal_timestamp_seconds\{subscription="sub_[^"]+",name="watch\.example\.test"\} [1-9]\d+$/m,
    );
    assert.ok(
      text.includes(`certkeep_orders_total{ca="${ca}",outcome="valid"} 1`),
      'the valid order is counted by CA',
    );
    assert.match(
      text,
      /^certkeep_http_acme_client_request_duration_seconds_count\{ca="[^"]+",endpoint="new_order",status="201"\} [1-9]/m,
    );
    assert.match(
      text,
      /^certkeep_http_acme_client_request_duration_seconds_count\{ca="[^"]+",endpoint="finalize_order",status="200"\} [1-9]/m,
    );
    assert.match(text, /^certkeep_certificates\{state="valid"\} [1-9]/m);
  });

  test('a metrics address already in use: serve ends at once with one line naming --metrics-listen', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      await assert.rejects(
        startServer(rig, { httpChallengeListen: 'off', args: ['--metrics-listen', `127.0.0.1:${port}`] }),
        (error: Error) => {
          assert.match(
            error.message,
            /--metrics-listen: cannot listen on 127\.0\.0\.1:\d+: the port is already in use/,
          );
          assert.doesNotMatch(error.message, /\n\s+at /, 'no stack trace');
          return true;
        },
      );
    } finally {
      taken.close();
    }
  });
});

function isJson(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}
