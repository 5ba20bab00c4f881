// Bringing this host's targets to the versions the server assigns: each target
// is checked against the host's policy, then — unless its directory already
// holds that version, finished — reported pending, deployed through the deploy
// library (files switched atomically, hook, reload, verify, rollback) and its
// outcome reported. A deployment killed midway is finished by the next run:
// the directory's manifest says what it holds. A failed target is tried again
// later (after a minute, doubling, at most hourly); a refused one when its
// assignment changes. A target removed on the server is no longer touched.
import { deploy, type DeployOutcome, readDeployment } from '../deploy/index.ts';
import { resolveTarget } from './host-policy.ts';
import type { AgentOptions } from './options.ts';
import type { Assignment, Report, ServerClient } from './server-client.ts';

export interface TargetResult {
  target: string;
  certificate: string;
  to: string;
  serial: string | null;
  status: 'deployed' | 'unchanged' | 'waiting' | 'failed' | 'refused' | 'later';
  error?: string;
}

export type Log = (line: string) => void;

const FIRST_RETRY_MS = 60_000;
const MAX_RETRY_MS = 3_600_000;

export class Converger {
  readonly #options: AgentOptions;
  readonly #client: ServerClient;
  readonly #log: Log;
  /** What the server has heard from us, by target: `versionId status error`. */
  readonly #reported = new Map<string, string>();
  /** Failed targets, by `target version`: when to try again. */
  readonly #retry = new Map<string, { attempts: number; at: number }>();

  constructor(options: AgentOptions, client: ServerClient, log: Log) {
    this.#options = options;
    this.#client = client;
    this.#log = log;
  }

  /** One pass over the assigned targets, one after the other. */
  async converge(targets: Assignment[], force = false): Promise<TargetResult[]> {
    const results: TargetResult[] = [];
    for (const assignment of targets) results.push(await this.#one(assignment, force));
    const live = new Set(targets.map((target) => target.id));
    for (const key of this.#reported.keys()) if (!live.has(key)) this.#reported.delete(key);
    return results;
  }

  /** The earliest moment a failed target is due again; undefined when none waits. */
  nextRetryAt(): number | undefined {
    const times = [...this.#retry.values()].map((entry) => entry.at);
    return times.length === 0 ? undefined : Math.min(...times);
  }

  async #one(assignment: Assignment, force: boolean): Promise<TargetResult> {
    const base = { target: assignment.id, certificate: assignment.certificate, to: assignment.to, serial: assignment.version?.serial ?? null };
    const version = assignment.version;
    if (!version) return { ...base, status: 'waiting' };
    const resolved = await resolveTarget(this.#options, assignment);
    if (!resolved.ok) {
      await this.#report({ target: assignment.id, versionId: version.id, status: 'failed', stage: 'prepare', error: resolved.reason });
      return { ...base, status: 'refused', error: resolved.reason };
    }
    const held = await readDeployment(resolved.target.directory).catch(() => undefined);
    if (held?.versionId === version.id && held.completedAt && (assignment.verify.length === 0 || held.verifiedAt)) {
      await this.#report({ target: assignment.id, versionId: version.id, status: 'deployed', ...(held.verifiedAt ? { verifiedAt: held.verifiedAt.toISOString() } : {}) });
      this.#retry.delete(`${assignment.id} ${version.id}`);
      return { ...base, status: 'unchanged' };
    }
    const retryKey = `${assignment.id} ${version.id}`;
    const retry = this.#retry.get(retryKey);
    if (retry && retry.at > Date.now() && !force) return { ...base, status: 'later' };
    await this.#report({ target: assignment.id, versionId: version.id, status: 'pending' });
    this.#log(`deploying ${assignment.certificate} (serial ${version.serial}) to ${resolved.target.directory}`);
    const outcome = await this.#deploy(assignment, resolved.target);
    if (outcome.status === 'deployed') {
      this.#retry.delete(retryKey);
      const verified = outcome.verifiedAt ? `, verified at ${assignment.verify.join(', ')}` : '';
      this.#log(`deployed ${assignment.certificate} (serial ${version.serial}) to ${resolved.target.directory}${verified}`);
      await this.#report({ target: assignment.id, versionId: version.id, status: 'deployed', ...(outcome.verifiedAt ? { verifiedAt: outcome.verifiedAt.toISOString() } : {}) });
      return { ...base, status: 'deployed' };
    }
    const attempts = (retry?.attempts ?? 0) + 1;
    this.#retry.set(retryKey, { attempts, at: Date.now() + Math.min(FIRST_RETRY_MS * 2 ** (attempts - 1), MAX_RETRY_MS) });
    this.#log(`failed to deploy ${assignment.certificate} to ${resolved.target.directory}: ${outcome.reason}`);
    await this.#report({
      target: assignment.id,
      versionId: version.id,
      status: 'failed',
      stage: outcome.stage,
      error: outcome.reason,
      rolledBack: outcome.rolledBack,
      ...(outcome.rollbackFailure ? { rollbackError: outcome.rollbackFailure } : {}),
    });
    return { ...base, status: 'failed', error: outcome.reason };
  }

  async #deploy(assignment: Assignment, target: Parameters<typeof deploy>[0]): Promise<DeployOutcome> {
    const version = assignment.version as { id: string; serial: string };
    try {
      const bundle = await this.#client.bundle(assignment.certificate);
      if (bundle.versionId !== version.id) {
        // A newer version was stored meanwhile: deploy that one (the next list will name it).
        version.id = bundle.versionId;
        version.serial = bundle.serial;
      }
      return await deploy(target, {
        certificateName: bundle.certificate,
        names: bundle.names,
        serial: bundle.serial,
        versionId: bundle.versionId,
        certPem: bundle.certPem,
        chainPem: bundle.chainPem,
        fullchainPem: bundle.fullchainPem,
        keyPem: bundle.keyPem,
        ...(bundle.pfx ? { pfx: Buffer.from(bundle.pfx, 'base64') } : {}),
      });
    } catch (error) {
      if ((error as Error).name === 'AgentRefused' || (error as Error).name === 'ServerUnreachable') throw error;
      return { status: 'failed', directory: target.directory, versionId: version.id, serial: version.serial, stage: 'prepare', reason: (error as Error).message, rolledBack: false };
    }
  }

  /** Sends the report unless the server already has exactly it. */
  async #report(report: Report): Promise<void> {
    const key = `${report.versionId} ${report.status} ${report.error ?? ''}`;
    if (this.#reported.get(report.target) === key) return;
    try {
      await this.#client.report(report);
    } catch (error) {
      const name = (error as Error).name;
      if (name === 'AgentRefused' || name === 'ServerUnreachable') throw error;
      // The target was removed meanwhile (404): the next list no longer names it.
      this.#log(`the server did not take the report for target ${report.target}: ${(error as Error).message}`);
      return;
    }
    this.#reported.set(report.target, key);
  }
}
