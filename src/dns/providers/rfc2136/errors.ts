// Turns a DNS server's refusal of an UPDATE into a message that says what
// failed and what to check. TSIG errors are in the TSIG record (RFC 8945 §5.3).
import type { TsigRecord } from '../../tsig.ts';
import { rcodeName } from '../../wire.ts';

export class DnsUpdateError extends Error {
  readonly server: string;
  /** The response code (e.g. NOTAUTH, REFUSED), or 'TIMEOUT' / 'UNREACHABLE' / 'BADRESPONSE'. */
  readonly code: string;
  readonly tsigError?: string;
  constructor(message: string, server: string, code: string, tsigError?: string) {
    super(message);
    this.name = 'DnsUpdateError';
    this.server = server;
    this.code = code;
    this.tsigError = tsigError;
  }
}

export interface RefusalContext {
  what: string; // e.g. "DNS update of _acme-challenge.example.test"
  server: string;
  zone: string;
  keyName?: string;
  rcode: number;
  tsig?: TsigRecord;
}

export function refusal(context: RefusalContext): DnsUpdateError {
  const rcode = rcodeName(context.rcode);
  const tsigError = context.tsig && context.tsig.error !== 0 ? rcodeName(context.tsig.error) : undefined;
  const answer = tsigError ? `${rcode} (TSIG ${tsigError})` : rcode;
  const message = `${context.what} at ${context.server} was refused: ${answer} — ${advice(context, rcode, tsigError)}`;
  return new DnsUpdateError(message, context.server, rcode, tsigError);
}

function advice(context: RefusalContext, rcode: string, tsigError: string | undefined): string {
  switch (tsigError) {
    case 'BADSIG':
      return 'check the TSIG secret (tsigSecret) and algorithm (tsigAlgorithm)';
    case 'BADKEY':
      return `the server does not know TSIG key "${context.keyName}" with this algorithm; check tsigKey and tsigAlgorithm`;
    case 'BADTIME':
      return `the clocks differ by more than the allowed fudge (${serverTime(context.tsig)}); synchronise them (NTP)`;
    case undefined:
      break;
    default:
      return 'check tsigKey, tsigSecret and tsigAlgorithm';
  }
  switch (rcode) {
    case 'NOTAUTH':
      return context.keyName
        ? `the server is not authoritative for zone ${context.zone}; check the zone and server settings`
        : `the server is not authoritative for zone ${context.zone} or wants a TSIG key; check server, tsigKey and tsigSecret`;
    case 'REFUSED':
      return `the server does not allow this ${context.keyName ? `key (${context.keyName})` : 'client'} to update zone ${context.zone}; check its allow-update / update-policy`;
    case 'NOTZONE':
      return `the name is not inside zone ${context.zone}; check the zone`;
    case 'SERVFAIL':
      return "the server could not apply the update; see the server's log";
    case 'NOTIMP':
    case 'FORMERR':
      return 'the server does not accept DNS UPDATE (RFC 2136) messages';
    default:
      return "see the server's log";
  }
}

function serverTime(tsig: TsigRecord | undefined): string {
  const now = new Date().toISOString();
  if (tsig?.otherData.length !== 6) return `local time ${now}`;
  return `server time ${new Date(tsig.otherData.readUIntBE(0, 6) * 1000).toISOString()}, local time ${now}`;
}
