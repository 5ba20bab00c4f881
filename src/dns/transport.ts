// Sends one DNS message to one server and returns the matching response:
// UDP first, TCP when the answer is truncated (TC bit, RFC 1035 §4.2.1), when
// the message is too big for UDP, or when UDP brings no answer.
import { Buffer } from 'node:buffer';
import { createSocket } from 'node:dgram';
import { connect, isIPv6 } from 'node:net';
import { type Address, addressText, splitAddress } from '../address.ts';

export type ServerAddress = Address;

export interface ExchangeOptions {
  /** Per attempt; default 2000 ms. */
  timeoutMs?: number;
  /** UDP attempts before the TCP attempt; default 2. */
  udpAttempts?: number;
  signal?: AbortSignal;
}

/** Raised when a server gives no usable answer; the message names the server. */
export class DnsTransportError extends Error {
  readonly server: string;
  readonly reason: 'timeout' | 'refused' | 'network';
  constructor(server: string, reason: 'timeout' | 'refused' | 'network', message: string) {
    super(message);
    this.name = 'DnsTransportError';
    this.server = server;
    this.reason = reason;
  }
}

const MAX_UDP_MESSAGE = 512; // without EDNS, RFC 1035 §4.2.1

/** 'host', 'host:port', '[v6]:port' or a bare IPv6 address (address.ts reads it). */
export function parseServer(text: string, defaultPort = 53): ServerAddress {
  try {
    return splitAddress(text, defaultPort);
  } catch (error) {
    throw new Error(`invalid DNS server "${text}": ${(error as Error).message}`);
  }
}

export function formatServer(server: ServerAddress): string {
  return addressText(server);
}

export async function exchange(
  server: ServerAddress,
  message: Buffer,
  opts: ExchangeOptions = {},
): Promise<Buffer> {
  opts.signal?.throwIfAborted();
  const timeoutMs = opts.timeoutMs ?? 2000;
  const attempts = message.length > MAX_UDP_MESSAGE ? 0 : (opts.udpAttempts ?? 2);
  let udpTimeouts = 0;
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      const response = await exchangeUdp(server, message, timeoutMs, opts.signal);
      if (!isTruncated(response)) return response;
      break;
    } catch (error) {
      if (!(error instanceof DnsTransportError) || error.reason !== 'timeout') throw error;
      udpTimeouts++;
    }
  }
  try {
    return await exchangeTcp(server, message, timeoutMs, opts.signal);
  } catch (error) {
    if (udpTimeouts === 0 || !(error instanceof DnsTransportError)) throw error;
    const name = formatServer(server);
    const detail = `${udpTimeouts} UDP attempt(s) of ${timeoutMs} ms timed out, then TCP: ${error.message}`;
    throw new DnsTransportError(name, 'timeout', `no answer from DNS server ${name} (${detail})`);
  }
}

function isTruncated(response: Buffer): boolean {
  return (response.readUInt16BE(2) & 0x0200) !== 0;
}

/** A response answers `message` when it is a response (QR) with the same ID. */
function answers(message: Buffer, response: Buffer): boolean {
  return (
    response.length >= 12 &&
    response.readUInt16BE(0) === message.readUInt16BE(0) &&
    (response[2] & 0x80) !== 0
  );
}

function exchangeUdp(
  server: ServerAddress,
  message: Buffer,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<Buffer> {
  const name = formatServer(server);
  return new Promise<Buffer>((resolve, reject) => {
    const socket = createSocket(isIPv6(server.host) ? 'udp6' : 'udp4');
    const finish = guard(socket.close.bind(socket), timeoutMs, signal, resolve, reject, () => {
      return new DnsTransportError(
        name,
        'timeout',
        `no answer from DNS server ${name} within ${timeoutMs} ms (UDP)`,
      );
    });
    socket.on('message', (response) => {
      if (answers(message, response)) finish(undefined, response);
    });
    socket.on('error', (error) => finish(toTransportError(name, error)));
    // A connected socket turns an ICMP "port unreachable" into ECONNREFUSED.
    // Node passes a lookup failure to this callback although its type says otherwise.
    socket.connect(server.port, server.host, (...args: unknown[]) => {
      const connectError = args[0] as NodeJS.ErrnoException | undefined;
      if (connectError) return finish(toTransportError(name, connectError));
      socket.send(message, (error) => {
        if (error) finish(toTransportError(name, error));
      });
    });
  });
}

function exchangeTcp(
  server: ServerAddress,
  message: Buffer,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<Buffer> {
  const name = formatServer(server);
  return new Promise<Buffer>((resolve, reject) => {
    const socket = connect({ host: server.host, port: server.port });
    const finish = guard(socket.destroy.bind(socket), timeoutMs, signal, resolve, reject, () => {
      return new DnsTransportError(
        name,
        'timeout',
        `no answer from DNS server ${name} within ${timeoutMs} ms (TCP)`,
      );
    });
    let received = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 2) return;
      const length = received.readUInt16BE(0);
      if (received.length < 2 + length) return;
      const response = received.subarray(2, 2 + length);
      if (answers(message, response)) finish(undefined, response);
      else
        finish(
          new DnsTransportError(name, 'network', `DNS server ${name} sent a response that does not match`),
        );
    });
    socket.on('error', (error) => finish(toTransportError(name, error)));
    socket.on('end', () =>
      finish(new DnsTransportError(name, 'network', `DNS server ${name} closed the connection`)),
    );
    const prefix = Buffer.alloc(2);
    prefix.writeUInt16BE(message.length);
    socket.write(Buffer.concat([prefix, message]));
  });
}

/** Settles once: on a result, an error, the timeout or an abort; always releases the socket. */
function guard(
  release: () => void,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  resolve: (response: Buffer) => void,
  reject: (error: unknown) => void,
  timeoutError: () => Error,
): (error: unknown, response?: Buffer) => void {
  let settled = false;
  const onAbort = () => finish(signal?.reason);
  const timer = setTimeout(() => finish(timeoutError()), timeoutMs);
  signal?.addEventListener('abort', onAbort, { once: true });
  function finish(error: unknown, response?: Buffer): void {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    release();
    if (response) resolve(response);
    else reject(error);
  }
  if (signal?.aborted) finish(signal.reason);
  return finish;
}

function toTransportError(server: string, error: NodeJS.ErrnoException): DnsTransportError {
  if (error.code === 'ECONNREFUSED') {
    return new DnsTransportError(
      server,
      'refused',
      `no DNS server listens at ${server} (connection refused)`,
    );
  }
  return new DnsTransportError(server, 'network', `cannot reach DNS server ${server}: ${error.message}`);
}
