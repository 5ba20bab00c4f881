// What the deploy tests share: a temp root with a test CA, a fresh DIR per test, and the check that
// DIR shows one complete version whose key belongs to its certificate.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { readFile, realpath, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, type TestContext } from 'node:test';
import { type DeployedVersion, normalSerial, readDeployment } from '../../src/deploy/index.ts';
import { tempDir } from '../rig/tmp.ts';
import { makeTestCa, type TestCa } from './certificates.ts';

export interface DeployFixture {
  /** The temp root (set once the file's tests start). */
  root: string;
  ca: TestCa;
  /** A DIR named `site` in a parent of its own, not made yet. */
  newDir(): string;
}

/** A temp root and a CA made before the file's tests and removed after them. */
export function deployFixture(prefix: string): DeployFixture {
  let remove = async () => {};
  let count = 0;
  const fixture: DeployFixture = {
    root: '',
    ca: undefined as unknown as TestCa,
    newDir: () => join(fixture.root, `t${++count}`, 'site'),
  };
  before(async () => {
    const dir = await tempDir(prefix);
    remove = dir.remove;
    fixture.root = dir.path;
    fixture.ca = await makeTestCa(dir.path);
  });
  after(() => remove());
  return fixture;
}

/** DIR resolves to a version whose pem files are all there and belong together; returns what it holds. */
export async function assertCompletePem(directory: string): Promise<DeployedVersion> {
  const held = await readDeployment(directory);
  assert.ok(held, `${directory} holds no certkeep version`);
  const resolved = await realpath(directory);
  const [cert, chain, fullchain, key] = await Promise.all(
    ['cert.pem', 'chain.pem', 'fullchain.pem', 'privkey.pem'].map((name) =>
      readFile(join(resolved, name), 'utf8'),
    ),
  );
  const leaf = new X509Certificate(cert);
  assert.ok(leaf.checkPrivateKey(createPrivateKey(key)), 'privkey.pem does not belong to cert.pem');
  assert.equal(fullchain, cert + chain);
  assert.equal(normalSerial(leaf.serialNumber), normalSerial(held.serial ?? ''));
  return held;
}

/** What the pem reader (pem-reader.ts) saw: reads, key/certificate mismatches, versions pruned under it, serials. */
export interface ReaderReport {
  reads: number;
  mismatches: number;
  vanished: number;
  serials: string[];
}

/**
 * Runs `work` while a reader in a process of its own resolves `directory` and reads its pem files
 * over and over, as a web server would; then stops the reader and returns what it saw.
 */
export async function whileReading(
  t: TestContext,
  directory: string,
  scratch: string,
  work: () => Promise<void>,
): Promise<ReaderReport> {
  const stopFile = join(scratch, `stop-reader-${randomBytes(4).toString('hex')}`);
  const reader = spawn(process.execPath, [join(import.meta.dirname, 'pem-reader.ts'), directory, stopFile], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => reader.kill('SIGKILL'));
  let output = '';
  reader.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const exited = once(reader, 'exit');
  await work();
  await writeFile(stopFile, '');
  const [code] = await exited;
  assert.equal(code, 0, 'the reader ran to the end');
  return JSON.parse(output) as ReaderReport;
}
