// named.conf and zone files for the BIND rig: authoritative test zones whose
// names all resolve to 127.0.0.1 and dynamic updates with one TSIG key.
// Authoritative only: nothing here reaches the internet.
import { join } from 'node:path';

export interface BindTsigKey {
  name: string;
  algorithm: 'hmac-sha256' | 'hmac-sha512';
  /** base64 */
  secret: string;
}

export interface ForwardZone {
  zone: string;
  /** host:port */
  server: string;
}

export interface NamedConfInput {
  dir: string;
  port: number;
  zones: string[];
  tsig: BindTsigKey;
}

export function zoneFile(dir: string, zone: string): string {
  return join(dir, `${zone}.zone`);
}

export function renderNamedConf(input: NamedConfInput): string {
  const { dir, port, tsig } = input;
  return [
    'options {',
    `  directory "${dir}";`,
    `  pid-file "${join(dir, 'named.pid')}";`,
    `  session-keyfile "${join(dir, 'session.key')}";`,
    `  managed-keys-directory "${dir}";`,
    `  listen-on port ${port} { 127.0.0.1; };`,
    '  listen-on-v6 { none; };',
    '  recursion no;',
    '  dnssec-validation no;',
    '  notify no;',
    '};',
    'controls { };',
    `key "${tsig.name}" { algorithm ${tsig.algorithm}; secret "${tsig.secret}"; };`,
    ...input.zones.map(
      (zone) =>
        `zone "${zone}" { type primary; file "${zoneFile(dir, zone)}"; allow-update { key "${tsig.name}"; }; };`,
    ),
    '',
  ].join('\n');
}

/** SOA minimum 0: resolvers must not cache "no such record" while a challenge is being written. */
export function renderZone(zone: string, extraRecords: string[] = []): string {
  return [
    '$TTL 60',
    `@ IN SOA ns1.${zone}. hostmaster.${zone}. 1 3600 600 86400 0`,
    `@ IN NS ns1.${zone}.`,
    '@ IN A 127.0.0.1',
    '* IN A 127.0.0.1',
    'ns1 IN A 127.0.0.1',
    ...extraRecords,
    '',
  ].join('\n');
}

const NAME = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** Rejects names and secrets that would break out of named.conf's quoting. */
export function checkConfigInput(input: {
  zones: string[];
  tsig: BindTsigKey;
  forwardZones: ForwardZone[];
}): void {
  for (const zone of [...input.zones, ...input.forwardZones.map((forward) => forward.zone)]) {
    if (!NAME.test(zone)) throw new Error(`BIND rig: invalid zone name "${zone}"`);
  }
  if (!NAME.test(input.tsig.name)) throw new Error(`BIND rig: invalid TSIG key name "${input.tsig.name}"`);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(input.tsig.secret))
    throw new Error('BIND rig: the TSIG secret is not base64');
}
