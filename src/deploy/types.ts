// The shapes a caller of the deploy library hands in and gets back: a target, a version, an outcome.

export type DeployFormat = 'pem' | 'combined' | 'pfx';
export const DEPLOY_FORMATS: readonly DeployFormat[] = ['pem', 'combined', 'pfx'];

/** Where and how one certificate is put on this host (checked by parseDeployTarget). */
export interface DeployTarget {
  /** Absolute path; becomes a symlink to the current version's directory. */
  directory: string;
  format: DeployFormat;
  /** USER[:GROUP] (names or numeric ids) that owns the files; the process's own user when absent. */
  owner?: string;
  /** Run through /bin/sh -c after the files are in place. */
  deployHook?: string;
  /** Run through /bin/sh -c after the hook, and again when rolling back. */
  reload?: string;
  /** HOST:PORT addresses that must serve the deployed serial. */
  verify: string[];
  verifyTimeoutMs: number;
  /** How long the hook or the reload may run before it is killed and the deployment fails. */
  commandTimeoutMs: number;
}

/** One version of a certificate, prepared by the caller (the library makes no PKCS#12 and reads no store). */
export interface VersionBundle {
  certificateName: string;
  /** The names on the certificate (DNS names, wildcards, IP addresses). */
  names: string[];
  /** The leaf's serial in hex (leading zeros and colons are ignored). */
  serial: string;
  versionId: string;
  certPem: string;
  chainPem: string;
  fullchainPem: string;
  keyPem: string;
  /** PKCS#12 bytes; required for the pfx format. */
  pfx?: Uint8Array;
}

/** What a target's directory holds now, read from the manifest beside the files. */
export interface DeployedVersion {
  /** undefined for files certkeep adopted from a directory that was there before it. */
  versionId?: string;
  serial?: string;
  certificateName?: string;
  format?: DeployFormat;
  names: string[];
  writtenAt: Date;
  /** When the deployment finished (hook, reload and verification passed); undefined while unfinished. */
  completedAt?: Date;
  /** When the served serial was seen; undefined when nothing was verified. */
  verifiedAt?: Date;
}

export type DeployStage = 'prepare' | 'files' | 'hook' | 'reload' | 'verify';

export interface DeploySuccess {
  status: 'deployed';
  directory: string;
  versionId: string;
  serial: string;
  /** When every verify address served the serial for every name; undefined when the target verifies nothing. */
  verifiedAt?: Date;
  /** Where the plain directory that stood at DIR before was moved, when this deployment replaced one. */
  replacedOriginal?: string;
}

export interface DeployFailure {
  status: 'failed';
  directory: string;
  versionId: string;
  serial: string;
  stage: DeployStage;
  /** The whole story in one line: what failed, and what the rollback did. */
  reason: string;
  /** DIR is back on the version it held before (and, where it was checked, that version is served again). */
  rolledBack: boolean;
  /** What went wrong while rolling back (its reload or its check), when anything did. */
  rollbackFailure?: string;
  /** What DIR holds after the failure. */
  holds?: DeployedVersion;
}

export type DeployOutcome = DeploySuccess | DeployFailure;

/** Steps reported to onProgress, in order; the rollback steps only after a failure. */
export type DeployStep =
  | 'prepared'
  | 'files-written'
  | 'switched'
  | 'hook-done'
  | 'reloaded'
  | 'verified'
  | 'rolling-back'
  | 'rolled-back';

export interface DeployOptions {
  /** Called synchronously at each step (progress display; tests stop a process at a given step). */
  onProgress?: (step: DeployStep) => void;
}
