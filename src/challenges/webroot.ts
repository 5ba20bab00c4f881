// HTTP-01 through a web server the user already runs: the token file is
// written under <webroot>/.well-known/acme-challenge/ and removed afterwards.
import { mkdir, rm, writeFile, rename, access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../errors.ts';
import type { ChallengeSolver, ChallengeTask } from './solver.ts';

export class WebrootSolver implements ChallengeSolver {
  readonly type = 'http-01' as const;
  readonly #directory: string;
  constructor(webroot: string) {
    this.#directory = join(webroot, '.well-known', 'acme-challenge');
  }

  static async open(webroot: string): Promise<WebrootSolver> {
    try {
      await access(webroot, constants.W_OK);
    } catch {
      throw new UsageError(`webroot: ${webroot} does not exist or is not writable — give the directory your web server serves for this domain`, 'webroot');
    }
    return new WebrootSolver(webroot);
  }

  async present(task: ChallengeTask): Promise<void> {
    await mkdir(this.#directory, { recursive: true, mode: 0o755 });
    const file = join(this.#directory, task.token);
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, task.keyAuthorization, { mode: 0o644 });
    await rename(temporary, file);
  }

  async cleanup(task: ChallengeTask): Promise<void> {
    await rm(join(this.#directory, task.token), { force: true });
  }
}
