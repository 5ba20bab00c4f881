// certkeep: the command line (src/cli), handed the surfaces its commands start
// — the HTTP API that `certkeep serve` runs (src/api), loaded only then. The one
// module that knows more than one surface; each surface knows only the engine.
import { main as commandLine } from './cli/program.ts';

export function main(argv: string[]): Promise<number> {
  return commandLine(argv, { api: async () => (await import('./api/server.ts')).apiSurface });
}
