// The deploy library: puts a certificate version where a web server reads it, switched atomically,
// then runs the hook and the reload and proves the new serial is served — or rolls back. A leaf:
// node built-ins, src/errors.ts and src/address.ts only, so the engine and the host agent share it unchanged.
export { deploy, readDeployment } from './deploy.ts';
export { layoutPaths, fileBase } from './layout.ts';
export { normalSerial } from './bundle.ts';
export { processAlive } from './lock.ts';
export {
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_VERIFY_TIMEOUT_MS,
  type DeployTargetInput,
  parseDeployTarget,
} from './target.ts';
export {
  DEPLOY_FORMATS,
  type DeployedVersion,
  type DeployFailure,
  type DeployFormat,
  type DeployOptions,
  type DeployOutcome,
  type DeployStage,
  type DeployStep,
  type DeploySuccess,
  type DeployTarget,
  type VersionBundle,
} from './types.ts';
