// A reader in a process of its own, as a web server reads its files: resolve DIR once, then read the
// pem files under what it resolved to. Runs until the stop file appears; prints what it saw as JSON.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';

const [directory, stopFile] = process.argv.slice(2);
const seen = { reads: 0, mismatches: 0, vanished: 0, serials: [] as string[] };
const serials = new Set<string>();
while (!existsSync(stopFile)) {
  try {
    const resolved = realpathSync(directory);
    const cert = readFileSync(join(resolved, 'cert.pem'), 'utf8');
    const key = readFileSync(join(resolved, 'privkey.pem'), 'utf8');
    const fullchain = readFileSync(join(resolved, 'fullchain.pem'), 'utf8');
    const leaf = new X509Certificate(cert);
    if (!leaf.checkPrivateKey(createPrivateKey(key)) || !fullchain.startsWith(cert)) seen.mismatches++;
    serials.add(leaf.serialNumber);
    seen.reads++;
  } catch (error) {
    // A version pruned between resolving and reading (two deployments later) is gone, not mixed;
    // anything else (a torn file that does not parse) counts as a mismatch.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') seen.vanished++;
    else seen.mismatches++;
  }
}
seen.serials = [...serials];
process.stdout.write(JSON.stringify(seen));
