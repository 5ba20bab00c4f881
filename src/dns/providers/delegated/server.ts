// certkeep's own small authoritative DNS server for CNAME-delegated DNS-01
// (the acme-dns model): the user points `_acme-challenge.<name>` at a label
// under a zone delegated to this server, and the server answers TXT queries
// there with the challenge values certkeep currently holds.
// UDP and TCP on one port (RFC 1035 §4.2, RFC 7766), over dns-packet.
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type Server, type Socket } from 'node:net';
import {
  AUTHORITATIVE_ANSWER,
  type Answer,
  type DecodedPacket,
  decode,
  encode,
  encodingLength,
  type OptAnswer,
  type Packet,
  type Question,
  RECURSION_DESIRED,
  TRUNCATED_RESPONSE,
} from 'dns-packet';

/** Where the server reads the current challenge values for a name (no trailing dot, lower case). */
export interface ChallengeRecordSource {
  txtValues(fqdn: string): Promise<string[]> | string[];
}

export interface DelegatedDnsServer {
  /** `host:port` the server listens on (UDP and TCP), with the real port when 0 was asked for. */
  address: string;
  stop(): Promise<void>;
}

export interface DelegatedDnsServerOptions {
  /** `host:port`; port 0 picks a free one. IPv6 as `[::1]:53`. */
  listen: string;
  /** The delegation zone this server is authoritative for, e.g. `acme.certkeep.test`. */
  zone: string;
  /** NS host name for the SOA and NS answers; default `ns.<zone>`. */
  nameserver?: string;
  records: ChallengeRecordSource;
}

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
const OPCODE_QUERY = 0;
// Challenge values change within seconds; keep resolvers from holding on to them.
const TXT_TTL = 1;
const NEGATIVE_TTL = 1; // RFC 2308 §5: negative answers are cached for min(SOA TTL, SOA MINIMUM)
const SOA_TTL = 60;
const NS_TTL = 3600;
const CLASSIC_UDP_LIMIT = 512; // RFC 1035 §4.2.1
const EDNS_UDP_LIMIT = 1232; // the DNS flag day 2020 default, safe from fragmentation
const TCP_IDLE_MS = 10_000;
const TXT_STRING_MAX = 255; // RFC 1035 §3.3.14: a TXT record is a list of <character-string>s

interface Authority {
  apex: string;
  nameserver: string;
  records: ChallengeRecordSource;
}

interface Lookup {
  rcode: number;
  authoritative: boolean;
  answers: Answer[];
  authorities: Answer[];
}

export async function startDelegatedDnsServer(opts: DelegatedDnsServerOptions): Promise<DelegatedDnsServer> {
  const apex = normalizeName(opts.zone);
  const authority: Authority = {
    apex,
    nameserver: normalizeName(opts.nameserver ?? `ns.${apex}`),
    records: opts.records,
  };
  const { host, port } = parseListen(opts.listen);
  const { udp, tcp } = await bindBoth(host, port);
  const connections = new Set<Socket>();

  udp.on('message', (message, peer) => void answerUdp(udp, message, peer, authority));
  udp.on('error', () => {}); // a send to a vanished peer must not take the server down
  tcp.on('connection', (socket) => serveTcpConnection(socket, connections, authority));

  const boundPort = udp.address().port;
  let stopped: Promise<void> | undefined;
  return {
    address: isIPv6(host) ? `[${host}]:${boundPort}` : `${host}:${boundPort}`,
    stop() {
      stopped ??= closeAll(udp, tcp, connections);
      return stopped;
    },
  };
}

// ---- answering ----

/** The response to one decoded query, or undefined when the message must be ignored. */
async function respond(query: DecodedPacket, authority: Authority): Promise<Packet | undefined> {
  if (query.type === 'response') return undefined; // never answer answers (loops)
  const opcode = ((query.flags ?? 0) >> 11) & 0xf;
  const questions = query.questions ?? [];
  const base = { id: query.id, questions, opcode, rd: query.flag_rd, edns: findOpt(query) };
  if (opcode !== OPCODE_QUERY) return buildResponse(base, failure(RCODE.NOTIMP));
  if (questions.length !== 1) return buildResponse(base, failure(RCODE.FORMERR));
  try {
    return buildResponse(base, await lookup(questions[0], authority));
  } catch {
    return buildResponse(base, failure(RCODE.SERVFAIL));
  }
}

async function lookup(question: Question, authority: Authority): Promise<Lookup> {
  const name = normalizeName(question.name);
  const { apex } = authority;
  if (question.class !== 'IN' && question.class !== 'ANY') return failure(RCODE.REFUSED);
  if (name !== apex && !name.endsWith(`.${apex}`)) return failure(RCODE.REFUSED);
  if (question.type === 'AXFR' || question.type === 'IXFR') return failure(RCODE.REFUSED);

  const type: string = question.type; // dns-packet decodes 'ANY', which its types do not list
  const atName = await recordsAt(question.name, name, authority);
  const negative = { authoritative: true, answers: [], authorities: [soaRecord(authority, NEGATIVE_TTL)] };
  // Names under the apex hold nothing but challenge TXT values, so a name without values does not exist.
  if (atName.length === 0) return { rcode: RCODE.NXDOMAIN, ...negative };
  const answers = atName.filter((record) => type === 'ANY' || record.type === type);
  if (answers.length === 0) return { rcode: RCODE.NOERROR, ...negative }; // NODATA, RFC 2308 §2.2
  return { rcode: RCODE.NOERROR, authoritative: true, answers, authorities: [] };
}

/** All records at `name`; `owner` is the name as the client spelled it (echoed for 0x20 checks). */
async function recordsAt(owner: string, name: string, authority: Authority): Promise<Answer[]> {
  const txt = (await authority.records.txtValues(name)).map(
    (value): Answer => ({ type: 'TXT', name: owner, ttl: TXT_TTL, data: txtStrings(value) }),
  );
  if (name !== authority.apex) return txt;
  const soa = { ...soaRecord(authority, SOA_TTL), name: owner };
  const ns: Answer = { type: 'NS', name: owner, ttl: NS_TTL, data: authority.nameserver };
  return [soa, ns, ...txt];
}

function soaRecord(authority: Authority, ttl: number): Answer {
  return {
    type: 'SOA',
    name: authority.apex,
    ttl,
    data: {
      mname: authority.nameserver,
      rname: `hostmaster.${authority.apex}`,
      serial: 1,
      refresh: 3600,
      retry: 600,
      expire: 86400,
      minimum: NEGATIVE_TTL,
    },
  };
}

/** Splits a value into <character-string>s of at most 255 bytes. */
function txtStrings(value: string): Buffer[] {
  const bytes = Buffer.from(value, 'utf8');
  const parts: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += TXT_STRING_MAX)
    parts.push(bytes.subarray(at, at + TXT_STRING_MAX));
  return parts.length > 0 ? parts : [Buffer.alloc(0)];
}

function failure(rcode: number): Lookup {
  return { rcode, authoritative: false, answers: [], authorities: [] };
}

interface ResponseBase {
  id: number | undefined;
  questions: Question[];
  opcode: number;
  rd: boolean;
  edns: OptAnswer | undefined;
}

function buildResponse(base: ResponseBase, result: Lookup): Packet {
  let flags = (base.opcode << 11) | result.rcode;
  if (result.authoritative) flags |= AUTHORITATIVE_ANSWER;
  if (base.rd) flags |= RECURSION_DESIRED; // RFC 1035 §4.1.1: RD is copied into the response
  const additionals: Answer[] = base.edns ? [ednsRecord()] : [];
  return {
    type: 'response',
    id: base.id,
    flags,
    questions: base.questions,
    answers: result.answers,
    authorities: result.authorities,
    additionals,
  };
}

function findOpt(query: DecodedPacket): OptAnswer | undefined {
  return (query.additionals ?? []).find((record): record is OptAnswer => record.type === 'OPT');
}

function ednsRecord(): OptAnswer {
  return {
    type: 'OPT',
    name: '.',
    udpPayloadSize: EDNS_UDP_LIMIT,
    extendedRcode: 0,
    ednsVersion: 0,
    flags: 0,
    flag_do: false,
    options: [],
  };
}

/** Encodes for UDP: too big for the client → header and question only, with TC (RFC 2181 §9). */
function encodeForUdp(response: Packet, query: DecodedPacket): Buffer {
  const opt = findOpt(query);
  const limit = opt
    ? Math.min(Math.max(opt.udpPayloadSize, CLASSIC_UDP_LIMIT), EDNS_UDP_LIMIT)
    : CLASSIC_UDP_LIMIT;
  if (encodingLength(response) <= limit) return encode(response);
  return encode({
    ...response,
    flags: (response.flags ?? 0) | TRUNCATED_RESPONSE,
    answers: [],
    authorities: [],
  });
}

/** Decodes and answers one message; malformed input yields undefined (ignored, RFC 1035 §4.1.1 allows it). */
async function handle(
  message: Buffer,
  authority: Authority,
  encodeFor: (response: Packet, query: DecodedPacket) => Buffer,
): Promise<Buffer | undefined> {
  let query: DecodedPacket;
  try {
    query = decode(message);
  } catch {
    return undefined;
  }
  try {
    const response = await respond(query, authority);
    return response ? encodeFor(response, query) : undefined;
  } catch {
    return undefined; // e.g. a question name dns-packet decoded but cannot encode back
  }
}

// ---- transports ----

async function answerUdp(udp: UdpSocket, message: Buffer, peer: RemoteInfo, authority: Authority) {
  const reply = await handle(message, authority, encodeForUdp);
  if (reply) udp.send(reply, peer.port, peer.address, () => {});
}

/** RFC 1035 §4.2.2 / RFC 7766: messages prefixed by a two-byte length, several per connection. */
function serveTcpConnection(socket: Socket, connections: Set<Socket>, authority: Authority) {
  connections.add(socket);
  socket.on('close', () => connections.delete(socket));
  socket.on('error', () => socket.destroy());
  socket.setTimeout(TCP_IDLE_MS, () => socket.destroy());
  let pending = Buffer.alloc(0);
  let queue = Promise.resolve();
  socket.on('data', (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
      const message = pending.subarray(2, 2 + pending.readUInt16BE(0));
      pending = pending.subarray(2 + message.length);
      // Answer in order; one slow lookup must not reorder the replies.
      queue = queue.then(async () => {
        const reply = await handle(message, authority, (response) => encode(response));
        if (reply && !socket.destroyed) socket.write(lengthPrefixed(reply));
      });
    }
  });
}

function lengthPrefixed(message: Buffer): Buffer {
  const prefix = Buffer.alloc(2);
  prefix.writeUInt16BE(message.length);
  return Buffer.concat([prefix, message]);
}

async function bindBoth(host: string, port: number): Promise<{ udp: UdpSocket; tcp: Server }> {
  // With port 0 the kernel picks a UDP port whose TCP twin may be taken; try a few.
  for (let attempt = 1; ; attempt++) {
    const udp = await bindUdp(host, port);
    try {
      return { udp, tcp: await listenTcp(host, udp.address().port) };
    } catch (error) {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      if (port !== 0 || attempt >= 5) throw error;
    }
  }
}

function bindUdp(host: string, port: number): Promise<UdpSocket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    socket.once('error', (error) => reject(listenError(error, host, port, 'UDP')));
    socket.bind(port, host, () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}

function listenTcp(host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error) => reject(listenError(error, host, port, 'TCP')));
    server.listen(port, host, () => {
      server.removeAllListeners('error');
      resolve(server);
    });
  });
}

function listenError(error: Error, host: string, port: number, transport: string): Error {
  const code = (error as NodeJS.ErrnoException).code ?? error.message;
  const hint =
    code === 'EADDRINUSE'
      ? 'another process uses that port; pick another one'
      : code === 'EACCES'
        ? 'ports below 1024 need root or CAP_NET_BIND_SERVICE'
        : 'check the listen address';
  return new Error(`challenge DNS server cannot listen on ${host}:${port} (${transport}, ${code}): ${hint}`, {
    cause: error,
  });
}

async function closeAll(udp: UdpSocket, tcp: Server, connections: Set<Socket>): Promise<void> {
  for (const socket of connections) socket.destroy();
  await Promise.all([
    new Promise<void>((resolve) => udp.close(() => resolve())),
    new Promise<void>((resolve) => tcp.close(() => resolve())),
  ]);
}

// ---- names and addresses ----

function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function parseListen(listen: string): { host: string; port: number } {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(listen) ?? /^([^:]+):(\d+)$/.exec(listen);
  const port = match ? Number(match[2]) : Number.NaN;
  if (!match || port > 65535) {
    throw new Error(
      `challenge DNS server listen address "${listen}" is not host:port (e.g. 0.0.0.0:53, [::]:53)`,
    );
  }
  return { host: match[1], port };
}
