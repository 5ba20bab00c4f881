// RFC 2136 UPDATE messages that add or delete exactly one TXT record.
import { Buffer } from 'node:buffer';
import { CLASS, encodeHeader, encodeName, encodeRecord, encodeTxtData, OPCODE_UPDATE, TYPE } from '../../wire.ts';

export interface TxtChange {
  action: 'add' | 'delete';
  zone: string;
  name: string;
  value: string;
  ttl: number;
}

export function buildTxtUpdate(change: TxtChange, id: number): Buffer {
  const header = encodeHeader({ id, flags: OPCODE_UPDATE << 11, counts: [1, 0, 1, 0] });
  // Zone section (§2.3): ZNAME, ZTYPE = SOA, ZCLASS = the zone's class.
  const zoneTypeAndClass = Buffer.alloc(4);
  zoneTypeAndClass.writeUInt16BE(TYPE.SOA, 0);
  zoneTypeAndClass.writeUInt16BE(CLASS.IN, 2);
  const rdata = encodeTxtData(change.value);
  const update =
    change.action === 'add'
      ? // §2.5.1: add to an RRset — the zone's class and the record's TTL.
        encodeRecord({ name: change.name, type: TYPE.TXT, klass: CLASS.IN, ttl: change.ttl, rdata })
      : // §2.5.4: delete an RR from an RRset — class NONE, TTL 0, the exact RDATA.
        encodeRecord({ name: change.name, type: TYPE.TXT, klass: CLASS.NONE, ttl: 0, rdata });
  return Buffer.concat([header, encodeName(change.zone), zoneTypeAndClass, update]);
}
