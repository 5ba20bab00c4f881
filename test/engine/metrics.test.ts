// The Prometheus metrics: the per-certificate gauges come from one read of the
// store at scrape time — 100,000 certificates stored, one scrape, every one of
// them in it with cert-manager's names — and the listener answers /metrics only.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { engineOn, type Engine } from '../../src/engine/engine.ts';
import { watchEngine } from '../../src/engine/metrics.ts';
import { createSubscription } from '../../src/engine/tenancy.ts';
import { startMetricsListener } from '../../src/metrics/listener.ts';
import type { CertkeepMetrics } from '../../src/metrics/metrics.ts';
import { openStore, type Store } from '../../src/store/database.ts';
import { updateCertificate } from '../../src/store/repositories/certificates.ts';
import { seedDueCertificates } from '../rig/due-certificates.ts';
import { tempDir } from '../rig/tmp.ts';

const COUNT = 100_000;
const CA = 'https://ca.example/dir';

describe('metrics', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let store: Store;
  let engine: Engine;
  let metrics: CertkeepMetrics;
  let subscriptionId: string;
  let names: string[];

  before(async () => {
    dir = await tempDir('certkeep-metrics-');
    store = await openStore({ dataDir: dir.path });
    engine = engineOn(store, { answers: 'server' });
    subscriptionId = (await createSubscription(engine, 'metrics')).id;
    names = await seedDueCertificates(store, { subscriptionId, count: COUNT, caUrl: CA, prefix: 'm' });
    metrics = watchEngine(engine);
  });

  after(async () => {
    await engine?.close();
    await store?.close();
    await dir?.remove();
  });

  test('one scrape at 100,000 certificates holds every certificate once per gauge, by subscription and name', async (t) => {
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const started = performance.now();
    const text = await metrics.scrape();
    delay.disable();
    t.diagnostic(
      `scrape of ${COUNT} certificates: ${Math.round(performance.now() - started)} ms, ${Math.round(text.length / 1e6)} MB, longest event-loop block ${Math.round(delay.max / 1e6)} ms`,
    );
    const lines = text.split('\n');
    const count = (prefix: string) => lines.filter((line) => line.startsWith(prefix)).length;
    assert.equal(count('certkeep_certificate_expiration_timestamp_seconds{'), COUNT);
    assert.equal(count('certkeep_certificate_renewal_timestamp_seconds{'), COUNT);
    assert.equal(count('certkeep_certificate_ready_status{'), 3 * COUNT);
    const name = names[4242];
    const expiry = lines.find((line) =>
      line.startsWith(
        `certkeep_certificate_expiration_timestamp_seconds{subscription="${subscriptionId}",name="${name}"}`,
      ),
    );
    assert.ok(expiry, `${name} has an expiration gauge`);
    assert.ok(
      Number(expiry.split(' ')[1]) * 1000 > Date.now(),
      'the expiry is a Unix time in seconds, in the future',
    );
    assert.ok(
      lines.includes(
        `certkeep_certificate_ready_status{subscription="${subscriptionId}",name="${name}",condition="True"} 1`,
      ),
    );
    assert.ok(
      lines.includes(
        `certkeep_certificate_ready_status{subscription="${subscriptionId}",name="${name}",condition="False"} 0`,
      ),
    );
    assert.ok(lines.includes(`certkeep_certificates{state="valid"} ${COUNT}`));
    assert.ok(
      lines.includes('certkeep_certificates{state="failed"} 0'),
      'every state is written, at 0 when empty',
    );
    assert.match(text, /^process_cpu_user_seconds_total /m, "the process's own metrics are there");
  });

  test('a failed, a revoked and a deleted certificate: counted by state, the deleted one gone', async () => {
    const byName = new Map(
      (
        await store.db
          .selectFrom('certificates')
          .select(['id', 'name'])
          .where('name', 'in', names.slice(0, 3))
          .execute()
      ).map((r) => [r.name, r.id]),
    );
    await store.db
      .updateTable('certificates')
      .set({ state: 'failed', current_version_id: null, current_not_after: null })
      .where('id', '=', byName.get(names[0])!)
      .execute();
    await updateCertificate(store.db, byName.get(names[1])!, { state: 'revoked' });
    await updateCertificate(store.db, byName.get(names[2])!, { state: 'deleted' });
    const lines = (await metrics.scrape()).split('\n');
    const labels = (name: string) => `subscription="${subscriptionId}",name="${name}"`;
    assert.ok(lines.includes(`certkeep_certificate_ready_status{${labels(names[0])},condition="False"} 1`));
    assert.ok(
      lines.includes(`certkeep_certificate_expiration_timestamp_seconds{${labels(names[0])}} 0`),
      'no version: expiry 0, as cert-manager',
    );
    assert.ok(lines.includes(`certkeep_certificate_ready_status{${labels(names[1])},condition="False"} 1`));
    assert.ok(
      !lines.some((line) => line.includes(`name="${names[2]}"`)),
      'a deleted certificate has no series',
    );
    assert.ok(lines.includes('certkeep_certificates{state="failed"} 1'));
    assert.ok(lines.includes('certkeep_certificates{state="revoked"} 1'));
    assert.ok(lines.includes(`certkeep_certificates{state="valid"} ${COUNT - 3}`));
  });

  test('requests, orders, propagation and deliveries are counted with bounded labels', async () => {
    engine.observer.acmeRequest(CA, 'new order', 201, 0.05);
    engine.observer.acmeRequest(CA, 'new order (get a nonce)', 0, 10);
    engine.observer.orderEnded(CA, 'invalid');
    engine.observer.dnsPropagated('rfc2136', 'visible', 3);
    engine.observer.webhookDelivery('retrying');
    engine.observer.mailDelivery('delivered');
    const text = await metrics.scrape();
    assert.match(
      text,
      /^certkeep_http_acme_client_request_duration_seconds_count\{ca="https:\/\/ca.example\/dir",endpoint="new_order",status="201"\} 1$/m,
    );
    assert.match(
      text,
      /^certkeep_http_acme_client_request_duration_seconds_count\{ca="https:\/\/ca.example\/dir",endpoint="new_nonce",status="0"\} 1$/m,
    );
    assert.match(text, /^certkeep_orders_total\{ca="https:\/\/ca.example\/dir",outcome="invalid"\} 1$/m);
    assert.match(text, /^certkeep_dns_propagation_seconds_count\{provider="rfc2136",outcome="visible"\} 1$/m);
    assert.match(text, /^certkeep_webhook_deliveries_total\{outcome="retrying"\} 1$/m);
    assert.match(
      text,
      /^certkeep_webhook_deliveries_total\{outcome="failed"\} 0$/m,
      'outcomes exist before the first of them',
    );
    assert.match(text, /^certkeep_mail_deliveries_total\{outcome="delivered"\} 1$/m);
    assert.doesNotMatch(text, /order_id|ord_/, 'no order ids in labels');
  });

  test('the listener answers GET /metrics in the text format, and nothing else', async () => {
    const errors: unknown[] = [];
    const listener = await startMetricsListener(metrics, '127.0.0.1', 0, (error) => errors.push(error));
    try {
      const base = `http://127.0.0.1:${listener.port}`;
      const scrape = await fetch(`${base}/metrics`);
      assert.equal(scrape.status, 200);
      assert.match(scrape.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      assert.match(await scrape.text(), /^# TYPE certkeep_certificate_expiration_timestamp_seconds gauge$/m);
      const other = await fetch(`${base}/api/v1/certificates`);
      assert.equal(other.status, 404);
      assert.match(await other.text(), /metrics are at \/metrics/);
      const post = await fetch(`${base}/metrics`, { method: 'POST' });
      assert.equal(post.status, 405);
      await post.body?.cancel();
      assert.deepEqual(errors, []);
    } finally {
      await listener.close();
    }
  });

  test('a store that does not answer: 503 with a sentence, the error to the log, the listener still up', async () => {
    const broken = watchEngine({ ...engine, store: { ...store, db: undefined as never } });
    const errors: unknown[] = [];
    const listener = await startMetricsListener(broken, '127.0.0.1', 0, (error) => errors.push(error));
    try {
      const response = await fetch(`http://127.0.0.1:${listener.port}/metrics`);
      assert.equal(response.status, 503);
      assert.match(await response.text(), /the store did not answer; see the server log/);
      assert.equal(errors.length, 1);
    } finally {
      await listener.close();
    }
  });
});
