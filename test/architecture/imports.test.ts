// Which way the rooms of src/ depend (docs/architecture.md): every import of
// every file — type-only and dynamic ones included — is checked against the
// rooms its own room may use. The surfaces (api, cli, and the agent from the
// day it appears) reach certkeep's libraries only through the engine; nothing
// imports a surface but the entry; src/ never imports tests or benchmarks. A
// folder or file at the top of src/ that this table does not know fails the
// test: decide what it is, and give it a row.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';

const SRC = resolve(new URL('../../src', import.meta.url).pathname);

/** What a surface may import besides its own folder: the engine's door and the few things every surface shares. */
const SURFACE = ['engine', 'notify', 'config.ts', 'errors.ts', 'address.ts', 'base32.ts'];

/** Each room of src/ (a folder, or a file at the top) and the other rooms it may import from. */
const ROOMS: Record<string, readonly string[]> = {
  // Leaf libraries: they know no database and no surface.
  acme: [],
  pki: [],
  time: [],
  'errors.ts': [],
  'base32.ts': [],
  // HOST:PORT, read in one place: by the DNS library, the deploy library's verify addresses and the surfaces' options.
  'address.ts': ['errors.ts'],
  dns: ['address.ts', 'base32.ts', 'errors.ts'],
  deploy: ['address.ts', 'errors.ts'],
  // Prometheus metrics: prom-client, the listener and the certificates' gauges; told what happens through the engine's observer.
  metrics: [],
  // The solvers use the DNS library (and pki for TLS-ALPN-01's certificate); the store keeps records in the protocol libraries' terms.
  challenges: ['acme', 'pki', 'dns', 'errors.ts'],
  store: ['acme', 'pki', 'deploy', 'errors.ts'],
  // What `certkeep demo` runs on loopback (Pebble, BIND).
  rig: ['dns'],
  // Where the server connects for tenants, and what a tenant may make it do (the ACME client's and DNS providers' connections included).
  outbound: ['acme', 'dns', 'errors.ts'],
  notify: ['store', 'outbound', 'time', 'errors.ts'],
  'config.ts': ['address.ts', 'errors.ts', 'notify'],
  // The engine composes all of the above.
  engine: ['acme', 'pki', 'dns', 'deploy', 'challenges', 'store', 'rig', 'outbound', 'notify', 'metrics', 'time', 'config.ts', 'errors.ts', 'address.ts', 'base32.ts'],
  // Surfaces: they translate, and call the engine.
  api: SURFACE,
  cli: SURFACE,
  agent: ['deploy', 'config.ts', 'errors.ts', 'address.ts'],
  // The entry hands the command line the surfaces its commands start.
  'certkeep.ts': ['cli', 'api', 'agent'],
  'main.ts': ['certkeep.ts'],
};

const SURFACES = ['api', 'cli', 'agent'];

/** The one file outside src/ that src/ may read: the package's manifest (the version `certkeep --version` prints), which ships with it. */
const MANIFEST = join('..', 'package.json');

interface Import {
  from: string; // path relative to src/
  specifier: string;
  target: string | undefined; // path relative to src/, undefined for packages and node: modules
}

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every module a file names: static, type-only, re-exports and dynamic imports (the TypeScript compiler's own reading). */
function importsOf(file: string): Import[] {
  const source = readFileSync(file, 'utf8');
  const from = relative(SRC, file);
  return ts.preProcessFile(source, true, true).importedFiles.map(({ fileName: specifier }) => ({
    from,
    specifier,
    target: specifier.startsWith('.') ? relative(SRC, resolve(dirname(file), specifier)) : undefined,
  }));
}

/** A dynamic import of a computed name cannot be checked: it is refused. */
function computedImports(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  return [...source.matchAll(/\bimport\(\s*(?!['"`])([^)]*)\)/g)].map((match) => `${relative(SRC, file)}: import(${match[1]})`);
}

function roomOf(path: string): string {
  return path.split(sep)[0];
}

const files = sourceFiles(SRC);
const imports = files.flatMap(importsOf);

test('every folder and file at the top of src/ is a room of the table', () => {
  const unknown = [...new Set(files.map((file) => roomOf(relative(SRC, file))))].filter((room) => !(room in ROOMS));
  assert.deepEqual(unknown, [], 'give each a row in ROOMS (and a line in docs/architecture.md): a library, a surface, or the entry');
});

test('each room imports only from itself and the rooms its row allows, type-only and dynamic imports included', () => {
  const outside = imports.filter((i) => i.target !== undefined && !(roomOf(i.from) in ROOMS && allowed(i)));
  assert.deepEqual(
    outside.map((i) => `${i.from} → ${i.target}`),
    [],
    'a surface asks the engine (engine/index.ts re-exports what surfaces need); a library imports only the rooms below it',
  );
  assert.deepEqual(files.flatMap(computedImports), [], 'name the module of a dynamic import literally, so that it can be checked');
});

test('the surfaces reach the libraries below the engine (store, ACME, DNS, solvers, outbound limits, rig) only through it', () => {
  const LIBRARIES = ['store', 'acme', 'pki', 'dns', 'challenges', 'outbound', 'rig'];
  const reaching = imports.filter(
    (i) => SURFACES.includes(roomOf(i.from)) && i.target !== undefined && LIBRARIES.includes(roomOf(i.target)),
  );
  assert.deepEqual(reaching.map((i) => `${i.from} → ${i.target}`), []);
});

test('nothing imports a surface but the entry, and src/ imports no tests or benchmarks', () => {
  const intoSurfaces = imports.filter(
    (i) => i.target !== undefined && SURFACES.includes(roomOf(i.target)) && roomOf(i.target) !== roomOf(i.from) && roomOf(i.from) !== 'certkeep.ts',
  );
  assert.deepEqual(intoSurfaces.map((i) => `${i.from} → ${i.target}`), []);
  const leaving = imports.filter((i) => i.target?.startsWith('..') && i.target !== MANIFEST);
  assert.deepEqual(leaving.map((i) => `${i.from} → ${i.specifier}`), [], 'src/ is what ships: test rigs and simulations live in test/');
});

function allowed(i: Import): boolean {
  if (i.target === MANIFEST) return true;
  const from = roomOf(i.from);
  const to = roomOf(i.target!);
  return to === from || ROOMS[from].includes(to);
}
