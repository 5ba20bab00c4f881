// The agent end-to-end story once more, run as dist/certkeep-agent: the single
// executable that `npm run build:exe` writes, built here (never committed).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { agentStory } from './agent-story.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

agentStory({
  label: ' as the single executable dist/certkeep-agent',
  executable: async () => {
    await promisify(execFile)(process.execPath, ['build/agent-exe.mjs'], { cwd: ROOT, timeout: 240_000 });
    return `${ROOT}dist/certkeep-agent`;
  },
});
