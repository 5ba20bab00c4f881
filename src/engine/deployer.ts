// The server's deployer: brings this machine's deploy targets to their
// certificates' current versions — at once when a version is stored here, and
// every interval for versions stored elsewhere, deployments a killed process
// left pending and failed targets whose retry time has come. Its passes never
// overlap, and each target is deployed under its lease, so the server and a
// `certkeep renew --all` timer on the same machine never both deploy it.
import type { EngineContext } from './context.ts';
import { type DeploymentResult, type DeployRunOptions, deployDueTargets } from './deployments.ts';
import { Ticker } from '../time/ticker.ts';

export interface DeployerOptions {
  /** Time between passes when nothing wakes the deployer (default 60 s). */
  intervalMs?: number;
  onError?: (error: unknown) => void;
  /** Each deployment's result (the server logs failures). */
  onResult?: (result: DeploymentResult) => void;
  onStep?: DeployRunOptions['onStep'];
}

export class LocalDeployer {
  readonly #ctx: EngineContext;
  readonly #ticker: Ticker<DeploymentResult[]>;
  readonly #onError: (error: unknown) => void;
  #queued = false;

  constructor(ctx: EngineContext, options: DeployerOptions = {}) {
    this.#ctx = ctx;
    this.#onError = options.onError ?? (() => {});
    const onResult = options.onResult ?? (() => {});
    this.#ticker = new Ticker(
      async () => {
        this.#queued = false;
        const results = await deployDueTargets(ctx, { onStep: options.onStep });
        for (const result of results) onResult(result);
        return results;
      },
      { clock: ctx.clock, intervalMs: options.intervalMs ?? 60_000, onError: this.#onError },
    );
  }

  /** A pass now, then every interval; a version stored by this process wakes it. */
  start(): void {
    this.#ctx.versionStored = () => this.wake();
    this.#ticker.start();
  }

  /** One more pass after the one in flight (passes asked for meanwhile are one). */
  wake(): void {
    if (this.#queued) return;
    this.#queued = true;
    this.#ticker.tick().catch(this.#onError);
  }

  /** One pass, for tests and callers that wait for it. */
  tick(): Promise<DeploymentResult[]> {
    return this.#ticker.tick();
  }

  /** Ends the loop and waits for the deployments in flight. */
  async stop(): Promise<void> {
    this.#ctx.versionStored = () => {};
    await this.#ticker.stop();
  }
}
