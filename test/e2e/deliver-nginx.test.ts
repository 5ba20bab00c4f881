import { NGINX } from '../rig/web-server-cases.ts';
import { deliveryStory } from './delivery-story.ts';

deliveryStory(NGINX);
