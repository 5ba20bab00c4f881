// What a tenant's zone can make the server do when the server is about to act on
// it: zones stored "some other way" (here: as the CLI, the operator, stores them)
// get no further than a tenant's request would.
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createSocket } from 'node:dgram';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { closeEngineContext, createEngineContext, type EngineContext } from '../../src/engine/context.ts';
import { TenantLimits } from '../../src/outbound/tenant-limits.ts';
import { addZone, ZoneDirectory } from '../../src/engine/zones.ts';
import { openStore, type Store } from '../../src/store/database.ts';
import { ensureSubscription } from '../../src/store/repositories/subscriptions.ts';
import { freePort } from '../../src/rig/ports.ts';
import { tempDir } from '../rig/tmp.ts';

describe('tenant limits when the server uses a stored zone', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let store: Store;
  let ctx: EngineContext;
  const logged: { details: Record<string, unknown>; message: string }[] = [];
  let subscription = 0;

  before(async () => {
    dir = await tempDir('certkeep-limits-');
    store = await openStore({ dataDir: dir.path });
    ctx = createEngineContext(store);
  });
  after(async () => {
    await closeEngineContext(ctx);
    await store.close();
    await dir.remove();
  });

  /** A zone stored as the CLI stores it (no limits), opened as the server opens it (with `limits`). */
  async function serverZone(spec: { provider: string; settings: Record<string, string>; nameservers?: string[] }, limits: TenantLimits) {
    const subscriptionId = `sub_limits${++subscription}`;
    await ensureSubscription(store.db, subscriptionId, 'limits', Date.now());
    ctx.limits = undefined;
    await addZone(ctx, subscriptionId, { zone: 'example.test', ...spec });
    ctx.limits = limits;
    const directory = new ZoneDirectory(ctx, subscriptionId);
    return { directory, open: () => directory.zoneFor('_acme-challenge.www.example.test', 'www.example.test') };
  }

  const limitsWith = (options: ConstructorParameters<typeof TenantLimits>[0] = {}) =>
    new TenantLimits({ ...options, log: (details, message) => logged.push({ details, message }) });

  async function script(name: string, body: string): Promise<string> {
    const path = join(dir.path, name);
    await writeFile(path, `#!/bin/sh\n${body}\n`);
    await chmod(path, 0o755);
    return path;
  }

  const record = { fqdn: '_acme-challenge.www.example.test', value: 'v' };

  test('an exec command the operator did not allow is not run', async () => {
    const marker = join(dir.path, 'ran');
    const command = await script('not-allowed.sh', `touch '${marker}'`);
    const zone = await serverZone({ provider: 'exec', settings: { command } }, limitsWith({ allowExec: ['/usr/local/bin/other'] }));
    await assert.rejects(zone.open(), /not one the server's operator allows \(certkeep serve --allow-exec\)/);
    await assert.rejects(stat(marker), { code: 'ENOENT' });
  });

  test("an allowed command runs with the operator's timeout, not the stored one", async () => {
    const done = join(dir.path, 'slow-done');
    const command = await script('slow.sh', `sleep 2; touch '${done}'`);
    const zone = await serverZone({ provider: 'exec', settings: { command, timeout: '1' } }, limitsWith({ allowExec: [command] }));
    await (await zone.open()).provider.present(record);
    assert.ok(await stat(done));
  });

  test("a failing hook's output goes to the log; the tenant hears that it failed", async () => {
    const command = await script('fails.sh', 'echo "SECRET-FROM-THE-HOST" >&2; exit 3');
    const zone = await serverZone({ provider: 'exec', settings: { command } }, limitsWith({ allowExec: [command] }));
    const handle = await zone.open();
    await assert.rejects(handle.provider.present(record), (error: Error) => {
      assert.match(error.message, /the DNS hook of zone example\.test failed \(present\); the server's operator has the details in its log/);
      assert.doesNotMatch(error.message, /SECRET/);
      return true;
    });
    assert.ok(logged.some((entry) => String(entry.details.error).includes('SECRET-FROM-THE-HOST')));
  });

  test('a stored listen address opens no port in the server', async () => {
    const port = await freePort();
    const zone = await serverZone(
      { provider: 'delegated', settings: { delegationZone: 'acme.example.net', listen: `127.0.0.1:${port}` } },
      limitsWith(),
    );
    await zone.open();
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, '127.0.0.1', resolve);
    });
    socket.close();
    await zone.directory.close();
  });

  test('a PowerDNS API or DNS server on a refused address is not contacted', async () => {
    let requests = 0;
    const server: Server = createHttpServer((_request, response) => {
      requests++;
      response.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const pdns = await serverZone({ provider: 'powerdns', settings: { apiUrl, apiKey: 'k' } }, limitsWith());
      await assert.rejects((await pdns.open()).provider.present(record), /127\.0\.0\.1 is not a public address.*--allow-outbound/);
      assert.equal(requests, 0);
      const allowed = await serverZone({ provider: 'powerdns', settings: { apiUrl, apiKey: 'k' } }, limitsWith({ allowOutbound: ['127.0.0.0/8'] }));
      await (await allowed.open()).provider.present(record);
      assert.ok(requests > 0, 'an allowed range is reached');
    } finally {
      server.close();
    }
    const rfc2136 = await serverZone({ provider: 'rfc2136', settings: { server: 'localhost:53' } }, limitsWith());
    await assert.rejects(rfc2136.open(), /DNS server localhost:53: localhost \(127\.0\.0\.1\) is not a public address/);
    const nameservers = await serverZone({ provider: 'delegated', settings: { delegationZone: 'acme.example.net' }, nameservers: ['[::1]:53'] }, limitsWith());
    await assert.rejects(nameservers.open(), /::1 is not a public address/);
  });

  test('without limits (the CLI, the operator) the same zones are used as stored', async () => {
    const marker = join(dir.path, 'cli-ran');
    const command = await script('cli.sh', `touch '${marker}'`);
    const zone = await serverZone({ provider: 'exec', settings: { command } }, limitsWith());
    ctx.limits = undefined;
    await (await zone.open()).provider.present(record);
    assert.equal(await readFile(marker, 'utf8'), '');
  });
});
