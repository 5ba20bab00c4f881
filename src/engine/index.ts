// The engine's door: everything a surface (the CLI, the API and its
// compatibility adapters, the agent, the portal) uses of certkeep's libraries
// comes through here, so that surfaces translate and the engine composes. The
// server runtime is not here: `certkeep serve` loads ./runtime.ts itself, so
// that the other commands start without the senders.

// Opening the engine, and the shapes of what it keeps.
export { databaseStatus, type Engine, type EngineConfig, engineOn, type EngineOptions, openEngine, type OpenOptions } from './engine.ts';
export type { ProgressListener } from './context.ts';
export { asCertkeepError } from './failures.ts';
export { DEFAULT_SUBSCRIPTION_ID } from '../store/repositories/subscriptions.ts';
export type { CertificateRow, VersionRow } from '../store/repositories/certificates.ts';
export { isFinished, type OrderRow } from '../store/repositories/orders.ts';
export type { ChallengeConfig, ChallengeType, CsrSubject, IssuerSpec, OrderStep } from '../store/records.ts';
export type { SecretBox } from '../store/secret-box.ts';
export { isoTime } from '../time/iso.ts';

// Certificates: asking for one, issuing and renewing it, its files, revoking, deleting.
export { type CertificateRequest, type ValidRequest, validateRequest } from './requests.ts';
export {
  changeCertificate,
  deleteCertificate,
  type IssueOutcome,
  issueCertificate,
  namesWithOpenOrders,
  renewableNames,
  renewCertificate,
} from './certificates.ts';
export { type Answerer, findOrder, raiseGoal, type StartedOrder, startCertificate, startRenewal } from './orders.ts';
export { driveOrder } from './runs.ts';
export { finishClientOrder, orderClientCertificate, prepareClientOrder, type PreparedOrder } from './client-orders.ts';
export { type CertificateFiles, certificateFiles, storedPfxPassword, versionFiles } from './files.ts';

// Delivery: this machine's deploy targets (added on its command line only), and bringing them to the current version.
export {
  addDeployTarget,
  checkDeployTarget,
  type DeployTargetSpec,
  type DeployTargetView,
  listDeployTargets,
  localDeployParents,
  removeDeployTarget,
  type TargetChange,
  THIS_MACHINE,
} from './deploy-targets.ts';
export { type DeploymentResult, type DeployRunOptions, deployLocalTargets } from './deployments.ts';
export { DEFAULT_VERIFY_TIMEOUT_MS, DEPLOY_FORMATS, type DeployStep } from '../deploy/index.ts';
// Host agents: their credentials, the targets assigned to them, what they read and report.
export {
  type AgentCaller,
  agentFollowing,
  type AgentView,
  authenticateAgent,
  createAgent,
  type EnrolledAgent,
  findAgentView,
  listAgentViews,
  removeAgent,
  rotateAgentToken,
} from './agents.ts';
export {
  addAgentTarget,
  agentAssignments,
  agentBundle,
  type AgentTargetSpec,
  type AgentTargetView,
  type Assignment,
  type Assignments,
  listAgentTargetsOf,
  removeAgentTarget,
} from './agent-targets.ts';
export { type CertificateDeployment, certificateDeployments, type DeploymentReport, findCertificateWithDeployments, reportDeployment } from './agent-reports.ts';
export { REVOCATION_REASONS, revocationReason, revokeCertificate } from './revocation.ts';
export { mustFindCertificate, orderById, reloadCertificate } from './lookups.ts';
export { certificateNumber, certificateNumbers, certificateNumbersIn, isSubscription, mustFindCertificateByNameOrNumber, subscriptionNumber } from './numbers.ts';
export { type EabCredentials, withEab } from './issuers.ts';
export { OrderInterruptedError, stepReached } from './issuance.ts';
export { DEFAULT_RETENTION_DAYS } from './retention.ts';

// How certificates and orders are shown.
export {
  type CertificateSummary,
  certificateHistory,
  certificateSummary,
  currentVersionIn,
  listCertificates,
  listCertificateSummaries,
  type OrderStatus,
  type OrderView,
  orderStatus,
  orderView,
  type ValidationToken,
} from './views.ts';

// Tenants, their keys and their people; managed DNS zones.
export { type Caller, type KeyCaller, principalOf, type Role, ROLES, type Scope, scopesOfRole, scopesUpTo, type UserCaller } from './callers.ts';
export {
  type ApiKeyView,
  authenticateApiKey,
  createApiKey,
  createSubscription,
  type IssuedKey,
  listSubscriptionKeys,
  listSubscriptions,
  revokeApiKey,
} from './tenancy.ts';
export {
  authenticateSession,
  changePassword,
  csrfTokenMatches,
  SignInLockedError,
  SignInRefusedError,
  signIn,
  signOut,
} from './sessions.ts';
export { createUser, listUsers, type NewUser, removeUser, resetUser, type UserView } from './users.ts';
export {
  addZone,
  describeProviders,
  listManagedZones,
  type ProviderDescription,
  removeZone,
  testManagedZone,
  testZone,
  type ZoneSpec,
  type ZoneSummary,
} from './zones.ts';

// What a tenant may make the server do (`certkeep serve --allow-exec`, `--allow-outbound`), checked where a tenant hands something in.
export { checkTenantCa, type TenantLimitOptions, TenantLimits, tenantLimitsOf } from '../outbound/tenant-limits.ts';
export { parseCidr } from '../outbound/policy.ts';

// The portal's views: the dashboard, searches, a certificate's details, live changes.
export {
  type CertificateDetails,
  certificateDetails,
  type CertificateSearch,
  type Dashboard,
  dashboard,
  HISTOGRAM_DAYS,
  searchCertificateSummaries,
} from './dashboard.ts';
export { type Change, LiveFeed } from './live.ts';

// CSRs a client sends, checked; names and subject details checked before they are stored.
export { type ParsedCsr, splitPemChain, validateCsrSubject, validateDnsName } from '../pki/index.ts';

// `certkeep demo`'s CA on this machine.
export { chainLeadsTo, type DemoCa, startDemoCa } from './demo.ts';
