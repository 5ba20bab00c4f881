// bench:deploy's agents: several `certkeep agent`s in one process (each its own
// token, state dir and allowed directory, a no-op reload), so that 200 agents
// fit on a 2-core machine. Reads their settings from the JSON file named by argv[2].
import { readFileSync } from 'node:fs';
import { runAgent } from '../src/agent/main.ts';

interface HostedAgent {
  server: string;
  token: string;
  allowDir: string;
  stateDir: string;
}

const agents = JSON.parse(readFileSync(process.argv[2], 'utf8')) as HostedAgent[];
// Each agent listens for SIGTERM and SIGINT.
process.setMaxListeners(agents.length * 2 + 10);
// Their progress lines would only slow the run down.
process.stdout.write = (() => true) as typeof process.stdout.write;
const codes = await Promise.all(
  agents.map((agent) =>
    runAgent(['--server', agent.server, '--token', agent.token, '--allow-dir', agent.allowDir, '--allow-reload', 'noop=true', '--state-dir', agent.stateDir]),
  ),
);
process.exitCode = codes.some((code) => code !== 0) ? 1 : 0;
