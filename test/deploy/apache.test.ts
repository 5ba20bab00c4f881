import { join } from 'node:path';
import { startApache } from '../rig/apache.ts';
import { webServerStory } from './web-servers.ts';

webServerStory({
  name: 'apache',
  format: 'pem',
  brokenLine: 'BogusDirective on',
  start: (directory) =>
    startApache({
      certificateFile: join(directory, 'fullchain.pem'),
      keyFile: join(directory, 'privkey.pem'),
    }),
});
