// One deployment, in the contract's order: files in place → deploy hook → reload → verify, and a
// rollback to the previous version when the hook, the reload or the verification fails.
import { checkBundle } from './bundle.ts';
import { runCommand } from './commands.ts';
import { adoptPlainDirectory, type DirectoryState, readDirectoryState, switchTo } from './directory.ts';
import { type CommandContext, commandEnvironment } from './environment.ts';
import { layoutFiles } from './layout.ts';
import { lockTarget } from './lock.ts';
import { type Ownership, resolveOwner } from './owner.ts';
import { type DeployTargetInput, parseDeployTarget } from './target.ts';
import type {
  DeployedVersion,
  DeployFailure,
  DeployOptions,
  DeployOutcome,
  DeployStage,
  DeployStep,
  DeployTarget,
  VersionBundle,
} from './types.ts';
import { verifyServed } from './verify.ts';
import {
  listSlots,
  nextSeq,
  openStore,
  readSlot,
  removeLeftovers,
  removeSlot,
  type Slot,
  updateManifest,
  type VersionStore,
  versionStore,
  writeSlot,
} from './versions.ts';

/**
 * Deploys one version to one target. Malformed input throws a UsageError naming the field, before
 * anything on the host is touched; everything that happens on the host comes back as the outcome.
 */
export async function deploy(
  input: DeployTargetInput,
  bundle: VersionBundle,
  options: DeployOptions = {},
): Promise<DeployOutcome> {
  const target = parseDeployTarget(input);
  checkBundle(bundle, target.format);
  const run = new Deployment(target, bundle, options);
  return run.start();
}

/** What a target's directory holds now; undefined when no certkeep version is there. */
export async function readDeployment(directory: string): Promise<DeployedVersion | undefined> {
  const store = versionStore(parseDeployTarget({ directory }).directory);
  const state = await readDirectoryState(store);
  if (state.kind !== 'ours') return undefined;
  return (await readSlot(store, state.slot))?.version;
}

class Deployment {
  private verifiedAt: Date | undefined;
  readonly target: DeployTarget;
  readonly bundle: VersionBundle;
  readonly store: VersionStore;
  readonly progress: (step: DeployStep) => void;

  constructor(target: DeployTarget, bundle: VersionBundle, options: DeployOptions) {
    this.target = target;
    this.bundle = bundle;
    this.store = versionStore(target.directory);
    this.progress = options.onProgress ?? (() => {});
  }

  async start(): Promise<DeployOutcome> {
    let owner: Ownership | undefined;
    if (this.target.owner) {
      const resolved = await resolveOwner(this.target.owner);
      if (!resolved.ok) return this.failed('prepare', resolved.reason);
      owner = resolved.owner;
    }
    try {
      await openStore(this.store);
    } catch (error) {
      return this.failed('prepare', `cannot make ${this.store.path}: ${(error as Error).message}`);
    }
    const lock = await lockTarget(this.store);
    if (!lock.ok) return this.failed('prepare', lock.reason);
    try {
      return await this.locked(owner);
    } catch (error) {
      return this.failed(
        'files',
        `deployment to ${this.target.directory} stopped: ${(error as Error).message}`,
      );
    } finally {
      await lock.release();
    }
  }

  private async locked(owner: Ownership | undefined): Promise<DeployOutcome> {
    let state: DirectoryState;
    let previous: Slot | undefined;
    try {
      state = await readDirectoryState(this.store);
      await removeLeftovers(this.store, state.kind === 'ours' ? state.slot : undefined);
      if (state.kind === 'refused') return this.failed('prepare', state.reason);
      previous =
        state.kind === 'plain'
          ? await adoptPlainDirectory(this.store, state.files)
          : await lastFinished(this.store);
    } catch (error) {
      return this.failed('prepare', `cannot read ${this.target.directory}: ${(error as Error).message}`);
    }
    this.progress('prepared');
    let slot: Slot;
    try {
      slot = await this.writeVersion(owner);
    } catch (error) {
      if (state.kind === 'plain' && previous) await removeSlot(this.store, previous.name);
      return this.failed(
        'files',
        `cannot write the files under ${this.store.path}: ${(error as Error).message}`,
      );
    }
    this.progress('files-written');
    let replacedOriginal: string | undefined;
    try {
      replacedOriginal = await switchTo(this.store, slot.name, state);
    } catch (error) {
      await removeSlot(this.store, slot.name);
      return this.failed(
        'files',
        `cannot point ${this.target.directory} at the new files: ${(error as Error).message}`,
      );
    }
    this.progress('switched');
    const failure = await this.activate();
    if (failure) return this.rollBack(failure.stage, failure.reason, slot, previous);
    await this.finish(slot, previous);
    return {
      status: 'deployed',
      directory: this.target.directory,
      versionId: this.bundle.versionId,
      serial: this.bundle.serial,
      verifiedAt: this.verifiedAt,
      replacedOriginal,
    };
  }

  private async writeVersion(owner: Ownership | undefined): Promise<Slot> {
    return writeSlot(this.store, {
      seq: await nextSeq(this.store),
      label: this.bundle.versionId,
      files: layoutFiles(this.target.format, this.bundle),
      owner,
      version: {
        versionId: this.bundle.versionId,
        serial: this.bundle.serial,
        certificateName: this.bundle.certificateName,
        format: this.target.format,
        names: this.bundle.names,
        writtenAt: new Date(),
      },
    });
  }

  /** Hook, reload, verify: the first failure, or undefined when all passed. */
  private async activate(): Promise<{ stage: DeployStage; reason: string } | undefined> {
    const context = this.commandContext(false);
    if (this.target.deployHook) {
      const hook = await runCommand(
        this.target.deployHook,
        commandEnvironment(context),
        this.target.commandTimeoutMs,
      );
      if (!hook.ok) return { stage: 'hook', reason: `deploy hook ${hook.reason}` };
      this.progress('hook-done');
    }
    if (this.target.reload) {
      const reload = await runCommand(
        this.target.reload,
        commandEnvironment(context),
        this.target.commandTimeoutMs,
      );
      if (!reload.ok) return { stage: 'reload', reason: `reload ${reload.reason}` };
      this.progress('reloaded');
    }
    if (this.target.verify.length > 0) {
      const verified = await verifyServed(
        this.target.verify,
        this.bundle.names,
        this.bundle.serial,
        this.target.verifyTimeoutMs,
      );
      if (!verified.ok) return { stage: 'verify', reason: verified.reason };
      this.verifiedAt = verified.at;
      this.progress('verified');
    }
    return undefined;
  }

  /**
   * Records that the deployment finished and prunes all but this version and the one before it
   * (a directory taken over stays in the store). The deployment stands even if this cannot be
   * written: the version then reads as unfinished, and the caller deploys it again.
   */
  private async finish(slot: Slot, previous: Slot | undefined): Promise<void> {
    try {
      await updateManifest(slot, { ...slot.version, completedAt: new Date(), verifiedAt: this.verifiedAt });
      for (const old of await listSlots(this.store)) {
        if (old.name !== slot.name && old.name !== previous?.name) await removeSlot(this.store, old.name);
      }
    } catch {}
  }

  private async rollBack(
    stage: DeployStage,
    reason: string,
    failed: Slot,
    previous: Slot | undefined,
  ): Promise<DeployFailure> {
    if (!previous) {
      return this.failed(
        stage,
        `${reason}; nothing to roll back to (first deployment): ${this.target.directory} keeps serial ${this.bundle.serial}`,
        { rolledBack: false },
      );
    }
    this.progress('rolling-back');
    const restored = previous.version.serial
      ? `serial ${previous.version.serial}`
      : 'the files that were there before';
    try {
      await switchTo(this.store, previous.name, { kind: 'ours', slot: failed.name });
    } catch (error) {
      const why = `could not switch back to ${restored}: ${(error as Error).message}`;
      return this.failed(stage, `${reason}; ${why}`, { rolledBack: false, rollbackFailure: why });
    }
    await removeSlot(this.store, failed.name);
    const rollbackFailure = await this.reactivate(previous);
    this.progress('rolled-back');
    const story = rollbackFailure
      ? `${reason}; rolled back to ${restored}, but ${rollbackFailure}`
      : `${reason}; rolled back to ${restored}${this.target.verify.length > 0 && previous.version.serial ? ', served again' : ''}`;
    return this.failed(stage, story, { rolledBack: true, rollbackFailure });
  }

  /** The rollback's reload, then the check that the restored serial is served; what failed, if anything. */
  private async reactivate(previous: Slot): Promise<string | undefined> {
    const problems: string[] = [];
    if (this.target.reload) {
      const env = commandEnvironment(this.restoredContext(previous.version));
      const reload = await runCommand(this.target.reload, env, this.target.commandTimeoutMs);
      if (!reload.ok) problems.push(`the rollback's reload failed too: it ${reload.reason}`);
    }
    const serial = previous.version.serial;
    if (this.target.verify.length > 0 && serial) {
      const names = previous.version.names.length > 0 ? previous.version.names : this.bundle.names;
      const verified = await verifyServed(
        this.target.verify,
        names,
        serial,
        this.target.verifyTimeoutMs,
        (address, served, name) =>
          `${address} serves serial ${served} for ${name}, not the restored ${serial}`,
      );
      if (!verified.ok) problems.push(verified.reason);
    }
    return problems.length > 0 ? problems.join('; and ') : undefined;
  }

  private commandContext(rollback: boolean): CommandContext {
    return {
      directory: this.target.directory,
      format: this.target.format,
      certificateName: this.bundle.certificateName,
      names: this.bundle.names,
      serial: this.bundle.serial,
      versionId: this.bundle.versionId,
      rollback,
    };
  }

  private restoredContext(version: DeployedVersion): CommandContext {
    return {
      directory: this.target.directory,
      format: version.format ?? this.target.format,
      certificateName: version.certificateName,
      names: version.names,
      serial: version.serial,
      versionId: version.versionId,
      rollback: true,
    };
  }

  private async failed(
    stage: DeployStage,
    reason: string,
    rollback: { rolledBack: boolean; rollbackFailure?: string } = { rolledBack: false },
  ): Promise<DeployFailure> {
    return {
      status: 'failed',
      directory: this.target.directory,
      versionId: this.bundle.versionId,
      serial: this.bundle.serial,
      stage,
      reason,
      rolledBack: rollback.rolledBack,
      rollbackFailure: rollback.rollbackFailure,
      holds: await readDeployment(this.target.directory).catch(() => undefined),
    };
  }
}

/** The newest version whose deployment finished: what the web server was last proven to serve. */
async function lastFinished(store: VersionStore): Promise<Slot | undefined> {
  return (await listSlots(store)).filter((slot) => slot.version.completedAt).at(-1);
}
