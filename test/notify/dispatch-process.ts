// A second server process for the webhook tests. It opens the store in the
// given data dir, says "ready", waits for a line on stdin, then runs dispatcher
// ticks at the given time until no delivery is pending, and exits.
// Usage: node dispatch-process.ts <dataDir> <epoch ms> <concurrency>
import { once } from 'node:events';
import { createEngineContext } from '../../src/engine/context.ts';
import { allowLoopback } from '../rig/limits.ts';
import { WebhookDispatcher } from '../../src/notify/dispatcher.ts';
import { openStore } from '../../src/store/database.ts';

const [dataDir, now, concurrency] = process.argv.slice(2);
const store = await openStore({ dataDir });
const ctx = allowLoopback(createEngineContext(store, { clock: { now: () => Number(now), sleep: async () => {} } }));
const dispatcher = new WebhookDispatcher(ctx, {
  settleMs: 0,
  concurrency: Number(concurrency),
  onError: (error) => {
    process.exitCode = 1;
    console.error(error);
  },
});
process.stdout.write('ready\n');
await once(process.stdin, 'data');
for (let round = 0; round < 100; round++) {
  await dispatcher.tick();
  const pending = await store.db
    .selectFrom('webhook_deliveries')
    .select('id')
    .where('status', '=', 'pending')
    .limit(1)
    .execute();
  if (pending.length === 0) break;
}
await dispatcher.stop();
await store.close();
process.stdin.destroy();
