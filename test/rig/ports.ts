// Free loopback ports for the test rig. The kernel picks the port; we close
// the socket and hand the number out. A small window for races remains, so
// each rig service retries its start on EADDRINUSE where it can.
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';

export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    // DNS services need the UDP port as well.
    if (await udpFree(port)) return port;
  }
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}
