// TSIG (RFC 8945): signs a DNS message with a shared HMAC key and verifies the
// server's signed answer. The secret never leaves this module's HMAC calls.
import { Buffer } from 'node:buffer';
import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  CLASS,
  encodeName,
  encodeRecord,
  HEADER_LENGTH,
  listRecords,
  type RawRecord,
  rcodeName,
  readName,
  TYPE,
  writeUInt48,
} from './wire.ts';

export type TsigAlgorithm = 'hmac-sha256' | 'hmac-sha512';

export interface TsigKey {
  name: string;
  algorithm: TsigAlgorithm;
  /** base64 */
  secret: string;
}

/** RFC 8945 §10 recommends 300 s. */
export const FUDGE_SECONDS = 300;

const HASH: Record<TsigAlgorithm, string> = { 'hmac-sha256': 'sha256', 'hmac-sha512': 'sha512' };

export function isTsigAlgorithm(value: string): value is TsigAlgorithm {
  return Object.hasOwn(HASH, value);
}

/** The TSIG record's fields (RFC 8945 §4.2). */
export interface TsigRecord {
  keyName: string;
  algorithm: string;
  timeSigned: number;
  fudge: number;
  mac: Buffer;
  originalId: number;
  /** TSIG error field: 0, or BADSIG (16), BADKEY (17), BADTIME (18)… */
  error: number;
  otherData: Buffer;
}

/**
 * Appends a TSIG record to `message` (RFC 8945 §4.3.1 request digest) and returns
 * the signed message and its MAC, which the response's signature covers.
 */
export function signMessage(
  message: Buffer,
  key: TsigKey,
  nowMs = Date.now(),
): { message: Buffer; mac: Buffer } {
  const timeSigned = Math.floor(nowMs / 1000);
  const originalId = message.readUInt16BE(0);
  const variables = tsigVariables(key.name, key.algorithm, timeSigned, FUDGE_SECONDS, 0, Buffer.alloc(0));
  const mac = hmac(key, [message, variables]);
  const record = encodeRecord({
    name: key.name,
    type: TYPE.TSIG,
    klass: CLASS.ANY,
    ttl: 0,
    rdata: tsigRdata(key.algorithm, timeSigned, mac, originalId),
  });
  const signed = Buffer.concat([message, record]);
  signed.writeUInt16BE(message.readUInt16BE(10) + 1, 10); // ARCOUNT
  return { message: signed, mac };
}

export type ResponseCheck =
  | { ok: true; tsig: TsigRecord }
  | { ok: false; problem: string; tsig?: TsigRecord };

/**
 * Checks the TSIG record of a response to a request signed with `requestMac`
 * (RFC 8945 §4.3.2 response digest, §5.3.2 time check).
 */
export function verifyResponse(
  response: Buffer,
  requestMac: Buffer,
  key: TsigKey,
  nowMs = Date.now(),
): ResponseCheck {
  const found = findTsig(response);
  if (!found) return { ok: false, problem: 'the response was not signed with TSIG' };
  const { tsig, record } = found;
  if (tsig.error !== 0) return { ok: false, problem: `TSIG ${rcodeName(tsig.error)}`, tsig };
  if (!sameName(tsig.keyName, key.name) || !sameName(tsig.algorithm, key.algorithm)) {
    return { ok: false, problem: `the response was signed with another key (${tsig.keyName})`, tsig };
  }
  const unsigned = Buffer.from(response.subarray(0, record.start));
  unsigned.writeUInt16BE(tsig.originalId, 0);
  unsigned.writeUInt16BE(response.readUInt16BE(10) - 1, 10);
  const variables = tsigVariables(
    tsig.keyName,
    tsig.algorithm,
    tsig.timeSigned,
    tsig.fudge,
    0,
    tsig.otherData,
  );
  const macLength = Buffer.alloc(2);
  macLength.writeUInt16BE(requestMac.length);
  const expected = hmac(key, [macLength, requestMac, unsigned, variables]);
  if (!macMatches(tsig.mac, expected))
    return { ok: false, problem: 'the response signature does not verify', tsig };
  if (Math.abs(nowMs / 1000 - tsig.timeSigned) > tsig.fudge) {
    return {
      ok: false,
      problem: 'the response is signed at a time outside the fudge window (clock skew)',
      tsig,
    };
  }
  return { ok: true, tsig };
}

/** The TSIG record of a message, if its last additional record is one. */
export function findTsig(message: Buffer): { tsig: TsigRecord; record: RawRecord } | undefined {
  if (message.length < HEADER_LENGTH || message.readUInt16BE(10) === 0) return undefined;
  const record = listRecords(message).at(-1);
  if (!record || record.type !== TYPE.TSIG) return undefined;
  return { tsig: parseTsigRdata(message, record), record };
}

function parseTsigRdata(message: Buffer, record: RawRecord): TsigRecord {
  const algorithm = readName(message, record.rdataStart);
  let offset = algorithm.end;
  const timeSigned = message.readUIntBE(offset, 6);
  const fudge = message.readUInt16BE(offset + 6);
  const macSize = message.readUInt16BE(offset + 8);
  offset += 10;
  const mac = Buffer.from(message.subarray(offset, offset + macSize));
  offset += macSize;
  const otherLength = message.readUInt16BE(offset + 4);
  if (offset + 6 + otherLength > record.end) throw new Error('malformed TSIG record');
  return {
    keyName: record.name,
    algorithm: algorithm.name,
    timeSigned,
    fudge,
    mac,
    originalId: message.readUInt16BE(offset),
    error: message.readUInt16BE(offset + 2),
    otherData: Buffer.from(message.subarray(offset + 6, offset + 6 + otherLength)),
  };
}

function tsigRdata(algorithm: string, timeSigned: number, mac: Buffer, originalId: number): Buffer {
  const fields = Buffer.alloc(4);
  fields.writeUInt16BE(FUDGE_SECONDS, 0);
  fields.writeUInt16BE(mac.length, 2);
  const tail = Buffer.alloc(6); // original ID, error 0, other length 0
  tail.writeUInt16BE(originalId, 0);
  return Buffer.concat([encodeName(algorithm, true), writeUInt48(timeSigned), fields, mac, tail]);
}

/** RFC 8945 §4.3.3: the TSIG fields the MAC covers, names in canonical form. */
function tsigVariables(
  keyName: string,
  algorithm: string,
  timeSigned: number,
  fudge: number,
  error: number,
  otherData: Buffer,
): Buffer {
  const classAndTtl = Buffer.alloc(6);
  classAndTtl.writeUInt16BE(CLASS.ANY, 0);
  const fields = Buffer.alloc(6);
  fields.writeUInt16BE(fudge, 0);
  fields.writeUInt16BE(error, 2);
  fields.writeUInt16BE(otherData.length, 4);
  return Buffer.concat([
    encodeName(keyName, true),
    classAndTtl,
    encodeName(algorithm, true),
    writeUInt48(timeSigned),
    fields,
    otherData,
  ]);
}

function hmac(key: TsigKey, parts: Buffer[]): Buffer {
  const mac = createHmac(HASH[key.algorithm], Buffer.from(key.secret, 'base64'));
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/** RFC 8945 §5.2.2.1: a truncated MAC holds at least half the digest and 10 bytes. */
function macMatches(received: Buffer, expected: Buffer): boolean {
  const minimum = Math.max(10, expected.length / 2);
  if (received.length < minimum || received.length > expected.length) return false;
  return timingSafeEqual(received, expected.subarray(0, received.length));
}

function sameName(a: string, b: string): boolean {
  return a.replace(/\.$/, '').toLowerCase() === b.replace(/\.$/, '').toLowerCase();
}
