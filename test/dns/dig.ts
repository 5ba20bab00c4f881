// `dig` (bind9-dnsutils) as an independent witness of what a server serves.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** `dig +short @host -p port name type`, one line per record; TXT values unquoted. */
export async function dig(address: string, name: string, type: string): Promise<string[]> {
  const [host, port] = address.split(':');
  const { stdout } = await run('dig', [
    '+short',
    '+norecurse',
    '+time=2',
    '+tries=1',
    `@${host}`,
    '-p',
    port,
    name,
    type,
  ]);
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.replace(/^"(.*)"$/, '$1'));
}
