// The command line's names for the fields that errors name: the engine says
// `keyType`, the user typed --key-type. Messages that begin with a field name
// are printed with the flag instead.

/** Provider settings as `certkeep zone add` options (flag, setting, help). */
export const SETTING_FLAGS: [flag: string, setting: string, help: string][] = [
  ['--server <host:port>', 'server', 'rfc2136: the primary that accepts DNS UPDATE'],
  ['--tsig-key <name>', 'tsigKey', 'rfc2136: TSIG key name'],
  ['--tsig-secret <base64>', 'tsigSecret', 'rfc2136: TSIG secret'],
  ['--tsig-algorithm <alg>', 'tsigAlgorithm', 'rfc2136: hmac-sha256 (default) or hmac-sha512'],
  ['--api-url <url>', 'apiUrl', 'powerdns: the HTTP API, e.g. http://127.0.0.1:8081'],
  ['--api-key <key>', 'apiKey', 'powerdns: X-API-Key'],
  ['--server-id <id>', 'serverId', 'powerdns: server id (default localhost)'],
  ['--command <path>', 'command', 'exec: called as PATH present|cleanup FQDN VALUE (as lego does)'],
  ['--delegation-zone <zone>', 'delegationZone', "delegated: the zone certkeep's challenge DNS server answers for"],
  ['--dns-listen <host:port>', 'listen', "delegated: where certkeep's challenge DNS server listens while it issues"],
];

const FIELD_FLAGS: Record<string, string> = {
  names: '-d',
  name: '--name',
  challengeType: '--challenge',
  keyType: '--key-type',
  ca: '--ca',
  renewBefore: '--renew-before',
  preferredChain: '--preferred-chain',
  webroot: '--webroot',
  httpPort: '--http-port',
  scope: '--scope',
  reason: '--reason',
  provider: '--provider',
  nameservers: '--nameserver',
  // certkeep serve's listeners (engine/runtime.ts names them by its options).
  listen: '--listen',
  httpChallenge: '--http-challenge-listen',
  tlsAlpnChallenge: '--tls-alpn-listen',
  'dns.listen': '--dns-listen',
  // `issue` names it --deploy-to, and says so itself (commands/options.ts, namingDirectoryFlag).
  directory: '--to',
  to: '--to',
  subscription: '--subscription',
  format: '--format',
  owner: '--owner',
  deployHook: '--deploy-hook',
  reload: '--reload',
  verify: '--verify',
  pfxPassword: '--pfx-password',
  metrics: '--metrics-listen',
  ...Object.fromEntries(SETTING_FLAGS.map(([flag, setting]) => [`settings.${setting}`, flag.slice(0, flag.indexOf(' '))])),
};

/** The message with its leading field name replaced by the flag that sets it, where there is one. */
export function withFlagName(message: string, field: string | undefined): string {
  const flag = field === undefined ? undefined : FIELD_FLAGS[field];
  if (!flag || !message.startsWith(`${field}:`)) return message;
  return `${flag}${message.slice(field!.length)}`;
}
