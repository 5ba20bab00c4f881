// A real `certkeep serve` under slow and idle connections without any key: the
// held ones are closed by the request timeout (headers, body, or nothing sent),
// connections past --max-connections are closed as they come, and /healthz
// answers while thousands are held.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type Rig, startRig } from './harness.ts';
import { eventually, type Server, startServer } from './server.ts';

describe('serve: timeouts and the connection cap', () => {
  let rig: Rig;
  const servers: Server[] = [];
  const sockets: Socket[] = [];
  before(async () => {
    rig = await startRig();
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    for (const server of servers) await server.stop();
    await rig.stop();
  });

  async function serve(args: string[]): Promise<Server> {
    const server = await startServer(rig, { httpChallengeListen: 'off', args: ['--workers', '0', '--renew-interval', '0', ...args] });
    servers.push(server);
    return server;
  }

  /** Opens a connection and sends `first` (maybe nothing); tracks when the server closes it. */
  async function hold(port: number, first: string): Promise<{ socket: Socket; closed: () => boolean }> {
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    let closed = false;
    socket.on('error', () => {});
    socket.on('close', () => {
      closed = true;
    });
    socket.on('data', () => {}); // the server's 408 or nothing
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    if (first) socket.write(first);
    return { socket, closed: () => closed };
  }

  const portOf = (server: Server) => Number(new URL(server.base).port);

  test('thousands of held connections: /healthz answers meanwhile, and every held one is closed', async () => {
    const server = await serve(['--request-timeout', '5']);
    const port = portOf(server);
    const kinds = [
      'POST /api/v1/zones HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{', // a body that never comes
      'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ', // headers that never end
      '', // nothing at all
    ];
    const held: { closed: () => boolean }[] = [];
    for (let i = 0; i < 3_000; i++) held.push(await hold(port, kinds[i % kinds.length]));
    const health = await fetch(`${server.base}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    const stillHeld = held.filter((h) => !h.closed()).length;
    assert.ok(stillHeld > 0, 'the check ran while connections were held');
    await eventually(async () => held.filter((h) => !h.closed()).length, (open) => open === 0, 60_000, 'every held connection closed');
    assert.equal((await fetch(`${server.base}/healthz`)).status, 200);
  });

  test('connections past --max-connections are closed as they arrive', async () => {
    const server = await serve(['--max-connections', '50', '--request-timeout', '600']);
    const port = portOf(server);
    const held: { closed: () => boolean }[] = [];
    for (let i = 0; i < 80; i++) held.push(await hold(port, 'POST /api/v1/zones HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n'));
    await eventually(async () => held.filter((h) => h.closed()).length, (closed) => closed >= 30, 30_000, '30 connections refused');
    assert.equal(held.slice(0, 50).filter((h) => h.closed()).length, 0, 'the first 50 are kept');
    assert.equal(held.slice(50).filter((h) => h.closed()).length, 30);
  });

  test('the options are checked: a bad timeout, cap, range or exec path stops serve with the option named', async () => {
    for (const [args, message] of [
      [['--request-timeout', '0'], /--request-timeout: "0" must be a whole number from 1 to 3600/],
      [['--max-connections', 'lots'], /--max-connections: "lots" must be a whole number/],
      [['--allow-outbound', '10.0.0.0/33'], /--allow-outbound: "10\.0\.0\.0\/33" is not an address range/],
      [['--trust-proxy', 'proxy.example'], /--trust-proxy: "proxy\.example" is not an address range/],
      [['--allow-exec', 'dns-hook'], /--allow-exec: "dns-hook" must be an absolute path/],
    ] as const) {
      const result = await rig.certkeep(['serve', '--listen', '127.0.0.1:1', '--http-challenge-listen', 'off', ...args]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, message);
    }
  });
});
