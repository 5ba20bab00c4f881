// Opening a challenge responder's port, with errors that say what to do when
// the port is taken or privileged, naming the option that chose it.
import type { Server } from 'node:net';
import { ConflictError, ForbiddenError } from '../errors.ts';

export interface ListenAdvice {
  /** The challenge, as the messages name it: "HTTP-01". */
  what: string;
  /** What to do when the port is in use. */
  inUse: string;
  /** What to do when the port is privileged and this process may not bind it. */
  denied: string;
}

/** Listens on host:port; resolves with the port bound (the one asked for, or the kernel's choice for 0). */
export async function listenOn(server: Server, host: string, port: number, advice: ListenAdvice): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, host, port, advice)));
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return typeof address === 'object' && address ? address.port : port;
}

/** Worded for `certkeep issue`; the cause keeps the errno code for callers with other flags (serve). */
function listenError(error: NodeJS.ErrnoException, host: string, port: number, advice: ListenAdvice): Error {
  const cause = { cause: error };
  if (error.code === 'EADDRINUSE') return new ConflictError(`${advice.what}: port ${port} on ${host} is already in use — ${advice.inUse}`, cause);
  if (error.code === 'EACCES') return new ForbiddenError(`${advice.what}: not allowed to listen on port ${port} — ${advice.denied}`, cause);
  return new ConflictError(`${advice.what}: cannot listen on ${host}:${port}: ${error.message}`, cause);
}
