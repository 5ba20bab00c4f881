// What a caller asks for when it wants a certificate, checked before anything
// is stored or sent to a CA. Every refusal names the field and the fix.
import { UsageError } from '../errors.ts';
import {
  type CsrSubject,
  type Identifier,
  identifiersFromNames,
  isKeyType,
  KEY_TYPES,
  type KeyType,
  normalizeName,
  validateCsrSubject,
  validateDnsName,
} from '../pki/index.ts';
import type { ChallengeConfig, ChallengeType, IssuerSpec, RenewalPolicy } from '../store/records.ts';
import { DEFAULT_RENEWAL_POLICY, parseRenewBefore } from './renewal-policy.ts';

const CHALLENGE_TYPES: readonly ChallengeType[] = ['http-01', 'dns-01', 'tls-alpn-01'];

function isChallengeType(value: string): value is ChallengeType {
  return (CHALLENGE_TYPES as readonly string[]).includes(value);
}

export interface CertificateRequest {
  subscriptionId: string;
  name?: string;
  names: string[];
  challengeType?: string;
  challengeConfig?: ChallengeConfig;
  keyType?: string;
  issuers: IssuerSpec[];
  profile?: string;
  csrInfo?: CsrSubject;
  renewalPolicy?: RenewalPolicy;
  /** Of the CA's chains, the one whose top certificate this issuer CN signed (chains.ts). */
  preferredChain?: string;
}

export interface ValidRequest {
  subscriptionId: string;
  name: string;
  identifiers: Identifier[];
  challengeType: ChallengeType;
  challengeConfig: ChallengeConfig;
  keyType: KeyType;
  issuers: IssuerSpec[];
  profile: string | null;
  csrInfo: CsrSubject;
  renewalPolicy: RenewalPolicy;
  preferredChain: string | null;
}

/** Checks a request before anything is stored or sent; every error names the field and the fix. */
export function validateRequest(request: CertificateRequest): ValidRequest {
  if (request.names.length === 0) throw new UsageError('names: give at least one domain name, e.g. example.com', 'names');
  const identifiers = identifiersFromNames(request.names);
  for (const identifier of identifiers) {
    if (identifier.type !== 'dns') continue;
    const problem = validateDnsName(identifier.value);
    if (problem) throw new UsageError(`names: ${identifier.value}: ${problem}`, 'names');
  }
  const challengeType = request.challengeType ?? 'http-01';
  if (!isChallengeType(challengeType)) {
    throw new UsageError(`challengeType: "${request.challengeType}" is not a challenge type; use ${CHALLENGE_TYPES.join(', ')}`, 'challengeType');
  }
  const wildcard = identifiers.find((i) => i.value.startsWith('*.'));
  if (wildcard && challengeType !== 'dns-01') {
    throw new UsageError(`names: ${wildcard.value}: wildcard names can only be validated with challengeType dns-01 (RFC 8555 §7.1.3)`, 'names');
  }
  const ip = identifiers.find((i) => i.type === 'ip');
  if (ip && challengeType === 'dns-01') {
    throw new UsageError(`names: ${ip.value}: IP addresses cannot be validated with dns-01 (RFC 8738 §7); use http-01 or tls-alpn-01`, 'names');
  }
  const keyType = request.keyType ?? 'ec-p256';
  if (!isKeyType(keyType)) throw new UsageError(`keyType: "${keyType}" is not a key type; use one of ${KEY_TYPES.join(', ')}`, 'keyType');
  const name = normalizeName(request.name ?? identifiers[0].value.replace(/^\*\./, 'wildcard.'));
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/.test(name)) {
    throw new UsageError(`name: "${name}" may hold letters, digits, dots, dashes and underscores only`, 'name');
  }
  const subjectProblem = validateCsrSubject(request.csrInfo ?? {});
  if (subjectProblem) throw new UsageError(`csrInfo.${subjectProblem.field}: ${subjectProblem.reason}`, `csrInfo.${subjectProblem.field}`);
  const renewalPolicy = request.renewalPolicy ?? DEFAULT_RENEWAL_POLICY;
  if (renewalPolicy.renewBefore) parseRenewBefore(renewalPolicy.renewBefore, 90 * 86_400_000);
  if (request.issuers.length === 0) throw new UsageError('ca: name at least one ACME CA', 'ca');
  const preferredChain = request.preferredChain === undefined ? null : checkPreferredChain(request.preferredChain);
  return {
    subscriptionId: request.subscriptionId,
    name,
    identifiers: dedupe(identifiers),
    challengeType,
    challengeConfig: request.challengeConfig ?? {},
    keyType,
    issuers: request.issuers,
    profile: request.profile ?? null,
    csrInfo: request.csrInfo ?? {},
    renewalPolicy,
    preferredChain,
  };
}

/** An issuer CN as the CA's chains spell it (matched exactly, as certbot and lego do). */
function checkPreferredChain(name: string): string {
  const trimmed = name.trim();
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (trimmed === '' || trimmed.length > 200 || /[\x00-\x1f\x7f]/.test(trimmed)) {
    throw new UsageError('preferredChain: give the issuer CN of the chain you want, as the CA spells it (1-200 characters), e.g. "ISRG Root X1"', 'preferredChain');
  }
  return trimmed;
}

function dedupe(identifiers: Identifier[]): Identifier[] {
  const seen = new Set<string>();
  return identifiers.filter((identifier) => {
    if (seen.has(identifier.value)) return false;
    seen.add(identifier.value);
    return true;
  });
}
