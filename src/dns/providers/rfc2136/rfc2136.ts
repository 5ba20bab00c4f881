// The `rfc2136` DNS-01 provider: DNS UPDATE (RFC 2136) signed with TSIG
// (RFC 8945), for BIND, Knot, PowerDNS and any server that takes dynamic updates.
// It adds and deletes exactly its own TXT value, never the whole RRset.
import type { Buffer } from 'node:buffer';
import { randomInt } from 'node:crypto';
import type { DnsProvider, ProviderDefinition, TxtRecord, ZoneConfig } from '../../provider.ts';
import { DnsTransportError, exchange, formatServer } from '../../transport.ts';
import { findTsig, signMessage, verifyResponse } from '../../tsig.ts';
import { DnsUpdateError, refusal } from './errors.ts';
import { parseRfc2136Settings, RFC2136_DESCRIPTION, type Rfc2136Settings } from './settings.ts';
import { buildTxtUpdate, type TxtChange } from './update-message.ts';

export { DnsUpdateError } from './errors.ts';

export const rfc2136: ProviderDefinition = {
  ...RFC2136_DESCRIPTION,
  create: (config) => createRfc2136Provider(config),
};

export interface Rfc2136Tuning {
  /** Per attempt (two over UDP, one over TCP); default 2000 ms. */
  timeoutMs?: number;
}

type Settings = Rfc2136Settings & { timeoutMs: number };

export function createRfc2136Provider(config: ZoneConfig, tuning: Rfc2136Tuning = {}): DnsProvider {
  const settings = { ...parseRfc2136Settings(config), timeoutMs: tuning.timeoutMs ?? 2000 };
  return {
    present: (record) => update(settings, 'add', record),
    cleanup: (record) => update(settings, 'delete', record),
  };
}

async function update(settings: Settings, action: TxtChange['action'], record: TxtRecord): Promise<void> {
  const name = record.fqdn.replace(/\.$/, '');
  const lower = name.toLowerCase();
  if (lower !== settings.zone && !lower.endsWith(`.${settings.zone}`)) {
    throw new Error(`cannot write ${name} through zone ${settings.zone}: the name is outside the zone`);
  }
  const change: TxtChange = { action, zone: settings.zone, name, value: record.value, ttl: settings.ttl };
  const what = `DNS update (${action} TXT) of ${name}`;
  const server = formatServer(settings.server);
  const unsigned = buildTxtUpdate(change, randomInt(0, 65536));
  const signed = settings.key ? signMessage(unsigned, settings.key) : undefined;
  const response = await send(settings, signed?.message ?? unsigned, what);
  checkResponse(settings, response, signed?.mac, what, server);
}

async function send(settings: Settings, message: Buffer, what: string): Promise<Buffer> {
  const server = formatServer(settings.server);
  try {
    return await exchange(settings.server, message, { timeoutMs: settings.timeoutMs, udpAttempts: 2 });
  } catch (error) {
    if (!(error instanceof DnsTransportError)) throw error;
    const code = error.reason === 'timeout' ? 'TIMEOUT' : 'UNREACHABLE';
    const hint = 'check the server setting and that the server is reachable';
    throw new DnsUpdateError(`${what} at ${server} failed: ${error.message} — ${hint}`, server, code);
  }
}

function checkResponse(
  settings: Settings,
  response: Buffer,
  requestMac: Buffer | undefined,
  what: string,
  server: string,
): void {
  const rcode = response.readUInt16BE(2) & 0x0f;
  const tsig = findTsig(response)?.tsig;
  if (rcode !== 0 || (tsig && tsig.error !== 0)) {
    throw refusal({ what, server, zone: settings.zone, keyName: settings.key?.name, rcode, tsig });
  }
  if (!settings.key || !requestMac) return;
  const check = verifyResponse(response, requestMac, settings.key);
  if (!check.ok) {
    const message = `${what} at ${server}: the server's answer failed TSIG verification (${check.problem}); the update may or may not have been applied`;
    throw new DnsUpdateError(message, server, 'BADRESPONSE');
  }
}
