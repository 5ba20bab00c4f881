// Free loopback ports: one function for the rig that `certkeep demo` starts, the
// tests and the benchmarks. The kernel picks the port; we close the socket and
// hand the number out. A small race window remains, so services retry their
// start on EADDRINUSE where they can.
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

/** A loopback port that is free for both TCP and UDP right now. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await freeTcpPort();
    // DNS services need the UDP port as well.
    if (await udpFree(port)) return port;
  }
}

function freeTcpPort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}
