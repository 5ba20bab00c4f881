// A direct DNS query to one server, without the system resolver or any cache
// (node:dns caches and recurses, which hides what an authoritative server holds).
import { randomInt } from 'node:crypto';
import dnsPacket, { type Answer, type Packet, type RecordType } from 'dns-packet';
import {
  type ExchangeOptions,
  exchange,
  formatServer,
  parseServer,
  type ServerAddress,
} from './transport.ts';
import { rcodeName } from './wire.ts';

export interface QueryOptions extends ExchangeOptions {
  /** Ask the server to recurse (RD bit); off for authoritative checks. Default false. */
  recursionDesired?: boolean;
}

export interface DnsResponse {
  server: string;
  rcode: string;
  authoritative: boolean;
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
}

/** RFC 8085-friendly EDNS buffer size (the DNS flag day 2020 value). */
const EDNS_UDP_SIZE = 1232;

export async function queryDns(
  server: string | ServerAddress,
  name: string,
  type: RecordType,
  opts: QueryOptions = {},
): Promise<DnsResponse> {
  const address = typeof server === 'string' ? parseServer(server) : server;
  const response = await ask(address, name, type, opts, true);
  // A server without EDNS support answers FORMERR (RFC 6891 §7); ask again plainly.
  if (response.rcode === 'FORMERR') return ask(address, name, type, opts, false);
  return response;
}

async function ask(
  server: ServerAddress,
  name: string,
  type: RecordType,
  opts: QueryOptions,
  edns: boolean,
): Promise<DnsResponse> {
  const query: Packet = {
    type: 'query',
    id: randomInt(0, 65536),
    flags: opts.recursionDesired ? dnsPacket.RECURSION_DESIRED : 0,
    questions: [{ type, name: name.replace(/\.$/, ''), class: 'IN' }],
    additionals: edns
      ? [
          {
            type: 'OPT',
            name: '.',
            udpPayloadSize: EDNS_UDP_SIZE,
            extendedRcode: 0,
            ednsVersion: 0,
            flags: 0,
            flag_do: false,
            options: [],
          },
        ]
      : [],
  };
  const bytes = await exchange(server, dnsPacket.encode(query), opts);
  const packet = dnsPacket.decode(bytes);
  return {
    server: formatServer(server),
    rcode: rcodeName(bytes.readUInt16BE(2) & 0x0f),
    authoritative: packet.flag_aa,
    answers: packet.answers ?? [],
    authorities: packet.authorities ?? [],
    additionals: packet.additionals ?? [],
  };
}

/** The TXT values at `name` in a list of records, each value's strings joined (RFC 8555 §8.4 uses one). */
export function txtValues(records: Answer[], name: string): string[] {
  const values: string[] = [];
  for (const record of records) {
    if (record.type !== 'TXT' || !sameName(record.name, name)) continue;
    const strings = Array.isArray(record.data) ? record.data : [record.data];
    values.push(strings.map((part) => (typeof part === 'string' ? part : part.toString('utf8'))).join(''));
  }
  return values;
}

export function sameName(a: string, b: string): boolean {
  return a.replace(/\.$/, '').toLowerCase() === b.replace(/\.$/, '').toLowerCase();
}

/** The data of the A, AAAA, CNAME or NS records of a list (only those owned by `name`, when given). */
export function nameData(records: Answer[], type: 'A' | 'AAAA' | 'CNAME' | 'NS', name?: string): string[] {
  const values: string[] = [];
  for (const record of records) {
    if (record.type !== 'A' && record.type !== 'AAAA' && record.type !== 'CNAME' && record.type !== 'NS')
      continue;
    if (record.type === type && (name === undefined || sameName(record.name, name))) values.push(record.data);
  }
  return values;
}
