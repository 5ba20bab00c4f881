import { join } from 'node:path';
import { startNginx } from '../rig/nginx.ts';
import { webServerStory } from './web-servers.ts';

webServerStory({
  name: 'nginx',
  format: 'pem',
  brokenLine: 'bogus_directive on;',
  async start(directory) {
    const nginx = await startNginx({
      root: directory,
      tls: { certificateFile: join(directory, 'fullchain.pem'), keyFile: join(directory, 'privkey.pem') },
    });
    return { ...nginx, port: nginx.tlsPort! };
  },
});
