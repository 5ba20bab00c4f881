// The single executable's entry (npm run build:exe): the agent alone, taking certkeep agent's options.
import { runAgent } from './main.ts';

runAgent(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
