import { HAPROXY } from '../rig/web-server-cases.ts';
import { webServerStory } from './web-servers.ts';

webServerStory(HAPROXY);
