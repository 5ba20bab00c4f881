// Renewal by a running server against a misbehaving CA: Pebble rejecting half
// of all nonces, and Pebble stopped mid-run, kept down for several retry
// intervals, then started again on the same port — with every account,
// order and authorization forgotten. Every certificate ends with exactly one
// new version, and nothing is left open.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import { createEngineContext } from '../../src/engine/context.ts';
import { createSubscription } from '../../src/engine/tenancy.ts';
import { seedDueCertificates } from '../rig/due-certificates.ts';
import { openStore, SQLITE_FILE } from '../../src/store/database.ts';
import { type Rig, startRig } from './harness.ts';
import { eventually, type Server, startServer } from './server.ts';

const COUNT = 30;
// Debian's Pebble 2.4 can deadlock under concurrent load: a few workers only.
const SERVER_ARGS = ['--renew-interval', '1', '--workers', '4'];

interface Event {
  type: string;
  certificate: string | null;
  payload: { error?: string; final?: boolean; orderId?: string };
}

interface OrderRow {
  id: string;
  name: string;
  step: string;
  attempt: number;
  created_at: number;
}

/** A server whose store holds COUNT certificates that are due, seeded before it starts. */
async function seededServer(rig: Rig, prefix: string): Promise<{ server: Server; apiKey: string; names: string[] }> {
  const store = await openStore({ dataDir: rig.dataDir });
  let apiKey: string;
  let names: string[];
  try {
    const subscription = await createSubscription(createEngineContext(store), `${prefix} tenant`);
    apiKey = subscription.key.apiKey;
    names = await seedDueCertificates(store, {
      subscriptionId: subscription.id,
      count: COUNT,
      caUrl: rig.pebble.directoryUrl,
      caCertPem: rig.pebble.caCertPem,
      prefix,
    });
  } finally {
    await store.close();
  }
  return { server: await startServer(rig, { args: SERVER_ARGS }), apiKey, names };
}

/** Reads the server's store beside it (read-only), as the renewal benchmark does. */
function query<T>(rig: Rig, sql: string): T[] {
  const db = new DatabaseSync(join(rig.dataDir, SQLITE_FILE), { readOnly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

/** New versions (made by an order) per certificate name. */
function newVersions(rig: Rig): Map<string, number> {
  const rows = query<{ name: string; n: number }>(
    rig,
    `SELECT c.name, count(v.id) AS n FROM certificates c
       LEFT JOIN certificate_versions v ON v.certificate_id = c.id AND v.order_id IS NOT NULL
     GROUP BY c.id`,
  );
  return new Map(rows.map((row) => [row.name, row.n]));
}

const renewedCount = (rig: Rig) => [...newVersions(rig).values()].filter((n) => n > 0).length;

function orders(rig: Rig): OrderRow[] {
  return query<OrderRow>(rig, 'SELECT o.id, c.name, o.step, o.attempt, o.created_at FROM orders o JOIN certificates c ON c.id = o.certificate_id');
}

/** The certificates without a new version and their orders, for failure messages. */
function pending(rig: Rig): string {
  const rows = query<Record<string, unknown>>(
    rig,
    `SELECT c.name, c.retry_at - strftime('%s','now') * 1000 AS retry_in_ms, c.failure_count, c.last_error,
            (SELECT json_group_array(json_object('step', o.step, 'attempt', o.attempt, 'retry_in_ms', o.retry_at - strftime('%s','now') * 1000, 'error', o.error))
               FROM orders o WHERE o.certificate_id = c.id) AS orders
       FROM certificates c
      WHERE NOT EXISTS (SELECT 1 FROM certificate_versions v WHERE v.certificate_id = c.id AND v.order_id IS NOT NULL)`,
  );
  return JSON.stringify(rows, null, 1);
}

/** Waits until every certificate has its new version; fails with what is still pending. */
async function allRenewed(rig: Rig, timeoutMs: number): Promise<void> {
  try {
    await eventually(async () => renewedCount(rig), (n) => n === COUNT, timeoutMs, 'every certificate renewed');
  } catch (error) {
    throw new Error(`${(error as Error).message}\nstill pending: ${pending(rig)}`);
  }
}

const isOpen = (order: OrderRow) => !['valid', 'deployed', 'invalid', 'failed'].includes(order.step);

async function allEvents(server: Server, apiKey: string): Promise<Event[]> {
  const events: (Event & { id: number })[] = [];
  for (;;) {
    const after = events.at(-1)?.id ?? 0;
    const page = await (await server.call('GET', `/api/v1/events?limit=1000&after=${after}`, { key: apiKey })).json();
    events.push(...page.events);
    if (page.remaining === 0) return events;
  }
}

function countBy<T>(items: T[], key: (item: T) => string | null): Map<string | null, number> {
  const counts = new Map<string | null, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

/** Each certificate renewed once: one new version, one certificate.renewed event, and no order left open. */
async function assertRenewedOnce(rig: Rig, server: Server, apiKey: string, names: string[]): Promise<Event[]> {
  const versions = newVersions(rig);
  for (const name of names) assert.equal(versions.get(name), 1, `${name}: one new version`);
  assert.deepEqual(orders(rig).filter(isOpen), [], 'no order left open');
  const events = await allEvents(server, apiKey);
  const renewed = countBy(events.filter((e) => e.type === 'certificate.renewed'), (e) => e.certificate);
  for (const name of names) assert.equal(renewed.get(name), 1, `${name}: one certificate.renewed event`);
  return events;
}

describe('renewal while Pebble rejects half of all nonces', () => {
  let rig: Rig;
  let server: Server;
  before(async () => {
    rig = await startRig({ pebble: { env: { PEBBLE_WFE_NONCEREJECT: '50' } } });
  });
  after(async () => {
    await server?.stop();
    await rig?.stop();
  });

  test(`${COUNT} due certificates: each renewed exactly once, one order each at the CA`, async (t) => {
    const seeded = await seededServer(rig, 'nonce');
    server = seeded.server;
    await allRenewed(rig, 120_000);
    await eventually(async () => orders(rig).filter(isOpen).length, (n) => n === 0, 30_000, 'no order open');
    await assertRenewedOnce(rig, server, seeded.apiKey, seeded.names);
    // Rejected nonces are retried: no order fails, so none is placed twice.
    const stored = orders(rig);
    assert.equal(stored.length, COUNT);
    assert.ok(stored.every((order) => order.step === 'valid' && order.attempt === 0), JSON.stringify(stored.filter((o) => o.attempt > 0)));
    assert.deepEqual(await rig.pebble.created(), { accounts: 1, orders: COUNT, certificates: COUNT });
    t.diagnostic(`POST /order-plz ${rig.pebble.requestCount('/order-plz')} times for ${COUNT} orders (bad nonces retried)`);
  });
});

describe('renewal while Pebble is down for a while, then restarted empty', () => {
  let rig: Rig;
  let server: Server;
  before(async () => {
    rig = await startRig();
  });
  after(async () => {
    await server?.stop();
    await rig?.stop();
  });

  test(`${COUNT} due certificates: the ones left when Pebble stopped are renewed once it is back`, async (t) => {
    const seeded = await seededServer(rig, 'outage');
    server = seeded.server;
    await eventually(async () => renewedCount(rig), (n) => n >= 5, 60_000, 'some certificates renewed');
    let renewedBefore = 0;
    let openAtOutage = 0;
    let orderRequestsBefore = 0;
    const downAt = Date.now();
    await rig.pebble.restart({
      whileDown: async () => {
        // Down until every open order has failed at least once and one has been retried
        // after its backoff and failed again: several retry intervals.
        await eventually(
          async () => orders(rig).filter(isOpen),
          (open) => open.length > 0 && open.every((o) => o.attempt >= 1) && open.some((o) => o.attempt >= 2),
          180_000,
          'every open order failed at least once, one retried',
        );
        renewedBefore = renewedCount(rig);
        openAtOutage = orders(rig).filter(isOpen).length;
        orderRequestsBefore = rig.pebble.requestCount('/order-plz');
      },
    });
    const upAt = Date.now();
    assert.ok(renewedBefore > 0 && renewedBefore < COUNT, `stopped mid-run: ${renewedBefore} of ${COUNT} renewed`);
    const left = COUNT - renewedBefore;
    assert.equal(openAtOutage, left, 'each certificate not yet renewed has its order open, waiting to retry');

    await allRenewed(rig, 180_000);
    const doneAt = Date.now();
    await eventually(async () => orders(rig).filter(isOpen).length, (n) => n === 0, 30_000, 'no order open');
    const events = await assertRenewedOnce(rig, server, seeded.apiKey, seeded.names);

    // Exactly once at the restarted CA: the key registered again once, one order and
    // one certificate for each certificate that was left.
    assert.deepEqual(await rig.pebble.created(), { accounts: 1, orders: left, certificates: left });
    const orderRequests = rig.pebble.requestCount('/order-plz') - orderRequestsBefore;
    assert.ok(orderRequests >= left, 'the ones refused for the forgotten account come on top');

    // No spinning: a failed order waits out its backoff (5 s, doubling). A tight loop would
    // have run each order hundreds of times while the CA was down.
    const stored = orders(rig);
    const maxAttempt = Math.max(...stored.map((o) => o.attempt));
    assert.ok(maxAttempt <= 8, `at most a few runs per order while the CA was down (most: ${maxAttempt})`);

    // renewal.failed: once when an order first runs into trouble, once when it ends invalid.
    const failed = events.filter((e) => e.type === 'renewal.failed');
    const expected = stored.filter((o) => o.attempt >= 1).length + stored.filter((o) => o.step === 'invalid' && o.attempt >= 2).length;
    assert.equal(failed.length, expected, 'one event per order at its first failure, one more per order that ended');
    assert.ok(failed.length >= left, 'every order left open saw the outage');
    for (const event of failed) {
      // First the CA unreachable; at the end, the orders it forgot.
      assert.match(event.payload.error ?? '', event.payload.final ? /the CA does not know/ : /could not reach the ACME CA/);
    }
    for (const [name, n] of countBy(failed, (e) => e.certificate)) assert.ok(n <= 4, `${name}: ${n} renewal.failed events`);

    t.diagnostic(
      `down ${Math.round((upAt - downAt) / 1000)} s with ${left} of ${COUNT} left; all renewed ${Math.round((doneAt - upAt) / 1000)} s after the restart; ` +
        `${failed.length} renewal.failed events; most runs of one order ${maxAttempt}; POST /order-plz ${orderRequests} times after the restart; ` +
        `orders: ${JSON.stringify(Object.fromEntries(countBy(stored, (o) => o.step)))}`,
    );
  });
});
