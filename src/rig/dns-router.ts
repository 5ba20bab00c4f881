// A cache-free DNS router in front of the BIND rig, used when the rig has
// forward zones: each message goes to the server of the zone its first name is
// in (BIND for the rest), and a CNAME that leads into another server's zone is
// chased there. BIND's own forwarding would cache answers for up to a second
// (its cache counts whole seconds even at TTL 0), so a challenge record that
// appears right after a lookup would stay invisible to the CA.
import { Buffer } from 'node:buffer';
import { createSocket } from 'node:dgram';
import { createServer, type Socket } from 'node:net';
import dnsPacket, { type Answer, type RecordType } from 'dns-packet';
import { nameData, sameName } from '../dns/query.ts';
import { exchange, type ServerAddress } from '../dns/transport.ts';
import { HEADER_LENGTH, readName } from '../dns/wire.ts';

export interface Route {
  zone: string;
  server: ServerAddress;
}

export interface DnsRouter {
  port: number;
  stop(): Promise<void>;
}

const MAX_CHASE = 8;
const UPSTREAM_TIMEOUT_MS = 2000;

export async function startDnsRouter(
  routes: Route[],
  fallback: ServerAddress,
  port: number,
): Promise<DnsRouter> {
  const route = (name: string) => upstreamFor(name, routes, fallback);
  const udp = createSocket('udp4');
  udp.on('message', (message, peer) => {
    if (message.length < HEADER_LENGTH) return;
    answer(message, route).then((response) => udp.send(response, peer.port, peer.address));
  });
  const tcp = createServer((socket) => serveTcp(socket, route));
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(port, '127.0.0.1', () => resolve());
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port,
    async stop() {
      await Promise.all([
        new Promise<void>((resolve) => udp.close(() => resolve())),
        new Promise<void>((resolve) => tcp.close(() => resolve())),
      ]);
    },
  };
}

/** The server of the longest matching zone. */
function upstreamFor(name: string, routes: Route[], fallback: ServerAddress): ServerAddress {
  const lower = name.toLowerCase().replace(/\.$/, '');
  let best: Route | undefined;
  for (const route of routes) {
    const inZone = lower === route.zone || lower.endsWith(`.${route.zone}`);
    if (inZone && (!best || route.zone.length > best.zone.length)) best = route;
  }
  return best?.server ?? fallback;
}

function serveTcp(socket: Socket, route: (name: string) => ServerAddress): void {
  let buffered = Buffer.alloc(0);
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
      const message = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
      buffered = buffered.subarray(2 + message.length);
      if (message.length < HEADER_LENGTH) return socket.destroy();
      answer(message, route).then((response) => {
        const prefix = Buffer.alloc(2);
        prefix.writeUInt16BE(response.length);
        if (!socket.destroyed) socket.write(Buffer.concat([prefix, response]));
      });
    }
  });
}

/** Relays the message unchanged (TSIG-signed updates stay valid); chases CNAMEs of queries. */
async function answer(message: Buffer, route: (name: string) => ServerAddress): Promise<Buffer> {
  try {
    const name = readName(message, HEADER_LENGTH).name;
    const upstream = route(name);
    const response = await exchange(upstream, message, { timeoutMs: UPSTREAM_TIMEOUT_MS });
    const opcode = (message.readUInt16BE(2) >> 11) & 0x0f;
    return opcode === 0 ? await chaseCnames(response, upstream, route) : response;
  } catch {
    return serverFailure(message);
  }
}

async function chaseCnames(
  response: Buffer,
  answeredBy: ServerAddress,
  route: (name: string) => ServerAddress,
): Promise<Buffer> {
  const packet = dnsPacket.decode(response);
  const question = packet.questions?.[0];
  if (!question || question.type === 'CNAME') return response;
  const answers = [...(packet.answers ?? [])];
  let authorities = packet.authorities ?? [];
  let rcode = response.readUInt16BE(2) & 0x0f;
  let upstream = answeredBy;
  for (let hop = 0; hop < MAX_CHASE; hop++) {
    const target = danglingCname(answers, question.name);
    const next = target && route(target);
    if (!target || !next || sameServer(next, upstream)) break;
    const reply = await ask(next, target, question.type);
    answers.push(...(reply.answers ?? []));
    authorities = reply.authorities ?? [];
    rcode = (reply.flags ?? 0) & 0x0f; // RFC 6604: the code of the last link
    upstream = next;
  }
  if (upstream === answeredBy) return response;
  const flags = ((packet.flags ?? 0) & ~0x0f) | dnsPacket.RECURSION_AVAILABLE | rcode;
  return dnsPacket.encode({ ...packet, flags, answers, authorities });
}

/** The end of the CNAME chain from `name` when nothing in `answers` is owned by it. */
function danglingCname(answers: Answer[], name: string): string | undefined {
  let current = name;
  for (let i = 0; i <= answers.length; i++) {
    const [next] = nameData(answers, 'CNAME', current);
    if (next === undefined) break;
    current = next;
  }
  if (sameName(current, name)) return undefined;
  return answers.some((record) => sameName(record.name, current)) ? undefined : current;
}

async function ask(server: ServerAddress, name: string, type: RecordType) {
  const query = dnsPacket.encode({
    type: 'query',
    id: Math.floor(Math.random() * 65536),
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type, class: 'IN' }],
  });
  return dnsPacket.decode(await exchange(server, query, { timeoutMs: UPSTREAM_TIMEOUT_MS }));
}

function sameServer(a: ServerAddress, b: ServerAddress): boolean {
  return a.host === b.host && a.port === b.port;
}

/** SERVFAIL with the query's ID and question (RFC 1035 §4.1.1). */
function serverFailure(message: Buffer): Buffer {
  let questionEnd = HEADER_LENGTH;
  try {
    questionEnd = readName(message, HEADER_LENGTH).end + 4;
  } catch {
    // no readable question: answer with the header alone
  }
  const response = Buffer.from(message.subarray(0, Math.min(questionEnd, message.length)));
  response.writeUInt16BE((message.readUInt16BE(2) & 0x7900) | 0x8000 | 0x0080 | 2, 2);
  response.writeUInt16BE(questionEnd > HEADER_LENGTH ? 1 : 0, 4);
  response.fill(0, 6, 12);
  return response;
}
