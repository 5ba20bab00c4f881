// The host agent end to end, run as `certkeep agent` (agent-story.ts).
import { agentStory } from './agent-story.ts';

agentStory();
