// certkeep: the command line (src/cli), handed the surfaces its commands start
// — the HTTP API that `certkeep serve` runs (src/api), loaded only then — and
// the host agent (src/agent), which `certkeep agent` runs with its own options
// (it is also built alone into dist/certkeep-agent). The one module that knows
// more than one surface; each surface knows only the engine (the agent: deploy).
// Each surface is loaded only when its command runs: an agent on a web server loads neither the engine nor the API.
export async function main(argv: string[]): Promise<number> {
  if (argv[2] === 'agent') return (await import('./agent/main.ts')).runAgent(argv.slice(3));
  const { main: commandLine } = await import('./cli/program.ts');
  return commandLine(argv, { api: async () => (await import('./api/server.ts')).apiSurface });
}
