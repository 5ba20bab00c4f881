// certkeep serve SIGKILLed during a burst of POST /certificates: no certificate
// is left issuing without an order (the row and its first order are written in
// one transaction), the client's retries get 202 or "exists" for a certificate
// that will be issued, and a certificate found stuck anyway (a row an older
// version left) is given its order by the scheduler.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import { SQLITE_FILE } from '../../src/store/database.ts';
import { type Rig, startRig, ZONE } from './harness.ts';
import { eventually, type Server, startServer } from './server.ts';

const BURST = 24;

describe('certkeep serve killed during a burst of writes', () => {
  let rig: Rig;
  let restarted: Server | undefined;
  before(async () => {
    rig = await startRig();
  });
  after(async () => {
    await restarted?.stop();
    await rig.stop();
  });

  /** Certificates and how many unfinished orders each has. */
  function certificates(): { id: string; name: string; state: string; open: number }[] {
    const db = new DatabaseSync(join(rig.dataDir, SQLITE_FILE), { readOnly: true });
    try {
      return db
        .prepare(
          `select c.id, c.name, c.state, (select count(*) from orders o where o.certificate_id = c.id and o.step not in ('valid', 'deployed', 'invalid', 'failed')) as open
           from certificates c where c.name like 'burst-%' order by c.name`,
        )
        .all() as { id: string; name: string; state: string; open: number }[];
    } finally {
      db.close();
    }
  }

  test('no certificate is left issuing without an order; retries and the scheduler finish the burst', async () => {
    const args = ['--workers', '0', '--renew-interval', '1', '--lease-seconds', '1'];
    const doomed = await startServer(rig, { httpChallengeListen: 'off', args });
    const { apiKey } = await doomed.subscription('burst tenant');
    // RSA-4096 keys take a while to make: the burst is still being written when the process dies.
    const body = (i: number) => ({ names: [`burst-${i}.${ZONE}`], name: `burst-${String(i).padStart(2, '0')}`, keyType: 'rsa-4096' });
    const answers = Array.from({ length: BURST }, (_, i) =>
      doomed.call('POST', '/api/v1/certificates', { key: apiKey, body: body(i) }).then(
        (response) => response.status,
        () => 0,
      ),
    );
    await Promise.race(answers.map((answer) => answer.then((status) => assert.equal(status, 202))));
    doomed.process.kill('SIGKILL');
    const statuses = await Promise.all(answers);
    await doomed.stop();
    assert.ok(statuses.some((status) => status === 0), `some requests were cut off by the kill: ${statuses}`);

    const afterKill = certificates();
    assert.deepEqual(afterKill.filter((c) => c.open === 0), [], 'every stored certificate has its order');
    const accepted = statuses.flatMap((status, i) => (status === 202 ? [`burst-${String(i).padStart(2, '0')}`] : []));
    for (const name of accepted) assert.ok(afterKill.some((c) => c.name === name), `${name} was answered 202 and is stored`);

    restarted = await startServer(rig, { httpChallengeListen: 'off', args });
    for (let i = 0; i < BURST; i++) {
      const retry = await restarted.call('POST', '/api/v1/certificates', { key: apiKey, body: body(i) });
      assert.ok([202, 409].includes(retry.status), await retry.text());
    }
    const all = certificates();
    assert.equal(all.length, BURST);
    assert.deepEqual(all.filter((c) => c.open !== 1 || c.state !== 'issuing').map((c) => c.name), []);
  });

  test('a certificate stuck issuing without an order (left by an older version) gets its order', async () => {
    assert.ok(restarted, 'the server of the previous test runs');
    const db = new DatabaseSync(join(rig.dataDir, SQLITE_FILE));
    try {
      const row = db.prepare("select * from certificates where name = 'burst-00'").get() as Record<string, unknown>;
      const stuck = { ...row, id: 'crt_stuck00000000000000000000', name: 'burst-stuck', state: 'issuing', updated_at: 0, current_version_id: null };
      const columns = Object.keys(stuck);
      db.prepare(`insert into certificates (${columns.join(', ')}) values (${columns.map(() => '?').join(', ')})`).run(
        ...(Object.values(stuck) as (string | number | null)[]),
      );
    } finally {
      db.close();
    }
    const repaired = await eventually(
      async () => certificates().find((c) => c.name === 'burst-stuck'),
      (c) => c !== undefined && c.open === 1,
      30_000,
      'the stuck certificate has an order',
    );
    assert.equal(repaired?.state, 'issuing');
  });
});
