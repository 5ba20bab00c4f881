// Bundles the CLI into ES modules (dist/certkeep.mjs and lazily loaded chunks) so that it starts in
// about half the time: one file to compile instead of a few hundred modules to
// resolve. Runs on `npm install` / `npm ci` (the prepare script). Development
// and tests run the TypeScript directly; bin/certkeep.js uses the bundle only
// while it is newer than every file under src/.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

// Chunk names change with their contents: last build's would pile up. (The agent's executable stays.)
for (const file of existsSync('dist') ? readdirSync('dist', { withFileTypes: true }).filter((entry) => entry.name.endsWith('.mjs')) : []) {
  rmSync(`dist/${file.name}`);
}

await build({
  entryPoints: ['src/certkeep.ts'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  // Chunks: what a command imports lazily (the server's API) loads only when used.
  outdir: 'dist',
  splitting: true,
  entryNames: 'certkeep',
  outExtension: { '.js': '.mjs' },
  // Fastify and its plugins find files beside their own code: load them from node_modules.
  external: ['pg-native', 'fastify', '@fastify/*'],
  // CommonJS dependencies (undici, pg) call require(); ES modules have none.
  banner: { js: "import { createRequire as __certkeepRequire } from 'node:module'; const require = __certkeepRequire(import.meta.url);" },
  logLevel: 'warning',
});
