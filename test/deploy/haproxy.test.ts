import { join } from 'node:path';
import { fileBase } from '../../src/deploy/index.ts';
import { startHaproxy } from '../rig/haproxy.ts';
import { webServerStory } from './web-servers.ts';

webServerStory({
  name: 'haproxy',
  format: 'combined',
  brokenLine: '  bogus-keyword on',
  start: (directory, certificateName) =>
    startHaproxy({ pemFile: join(directory, `${fileBase(certificateName)}.pem`) }),
});
