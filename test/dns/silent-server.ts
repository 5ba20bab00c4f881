// A UDP "DNS server" that reads queries and never answers, for timeout paths.
import { createSocket } from 'node:dgram';

export async function startSilentServer(): Promise<{
  address: string;
  received: () => number;
  stop(): Promise<void>;
}> {
  const socket = createSocket('udp4');
  let count = 0;
  socket.on('message', () => {
    count++;
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${socket.address().port}`,
    received: () => count,
    stop: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
