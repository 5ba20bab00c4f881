#!/usr/bin/env node
// The process entry (npm run certkeep, the tests). Node's compile cache keeps
// the type-stripped, compiled modules between runs, which halves start-up; it
// must be on before the program's modules load, hence the dynamic import.
import module from 'node:module';

module.enableCompileCache?.();
const { main } = await import('./certkeep.ts');
process.exitCode = await main(process.argv);
