// A deploying process for the crash tests: deploys the job's bundles to its target, and SIGKILLs
// itself at the step the job names (or is killed by the test at a moment of its choosing).
import { readFileSync } from 'node:fs';
import {
  deploy,
  type DeployStep,
  type DeployTargetInput,
  type VersionBundle,
} from '../../src/deploy/index.ts';

export interface DeployJob {
  target: DeployTargetInput;
  bundles: VersionBundle[];
  /** Kill this process when the deployment reaches this step. */
  killAt?: DeployStep;
  /** Deploy the bundles round and round until killed. */
  loop?: boolean;
}

const job = JSON.parse(readFileSync(process.argv[2], 'utf8')) as DeployJob;
const onProgress = (step: DeployStep) => {
  if (step === job.killAt) process.kill(process.pid, 'SIGKILL');
};
do {
  for (const bundle of job.bundles) {
    const outcome = await deploy(job.target, bundle, { onProgress });
    if (outcome.status === 'failed' && !job.killAt) throw new Error(outcome.reason);
  }
} while (job.loop);
