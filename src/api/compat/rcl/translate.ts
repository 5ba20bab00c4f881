// From the RCL API's fields to certkeep's request: challenge types, targets,
// the names a certificate covers, certificate names, CSR details. Every
// refusal names the RCL field and says what would be accepted.
import { type ChallengeType, type CsrSubject, type IssuerSpec, validateCsrSubject, validateDnsName, validateRequest, type ValidRequest } from '../../../engine/index.ts';
import { UsageError } from '../../../errors.ts';
import { CertificateNameParams } from '../../schemas.ts';

const NAME_PATTERN = new RegExp(CertificateNameParams.properties.name.pattern!);
const SUPPORTED_TARGETS = '"Stand Alone" (in any case, also "Stand ALone")';

/** `dns`/`DNS` → dns-01, `http`/`HTTP` → http-01 (the ACME names are accepted too). */
export function challengeTypeOf(value: string): ChallengeType {
  const type = value.trim().toLowerCase();
  if (type === 'dns' || type === 'dns-01') return 'dns-01';
  if (type === 'http' || type === 'http-01') return 'http-01';
  throw new UsageError(`challengeType: "${value}" is not supported; use DNS or HTTP (any case)`, 'challengeType');
}

/** The portal's cloud targets (Azure and the like) are not certkeep's business: Stand Alone only. */
export function checkTarget(target: string | null | undefined): void {
  if (target === undefined || target === null) return;
  if (target.replace(/[\s_-]/g, '').toLowerCase() === 'standalone') return;
  throw new UsageError(`target: "${target}" is not supported; certkeep supports ${SUPPORTED_TARGETS} only`, 'target');
}

/** A DNS name as certkeep keeps it (lower case, no trailing dot); `wildcard` allows *.name. */
export function domainOf(value: string, field: string, wildcard = false): string {
  const name = value.trim().toLowerCase().replace(/\.$/, '');
  const problem = validateDnsName(name);
  if (problem) throw new UsageError(`${field}: "${value}" is not a domain name: ${problem}`, field);
  if (name.startsWith('*.') && !wildcard) throw new UsageError(`${field}: "${value}" must not be a wildcard`, field);
  return name;
}

/** The name a certificate is stored under: a wildcard host `*.x` becomes `wildcard.x`. */
export function storedName(name: string, field = 'certificateName'): string {
  const stored = name.startsWith('*.') ? `wildcard.${name.slice(2)}` : name;
  if (!NAME_PATTERN.test(stored) || stored.length > 200) {
    throw new UsageError(`${field}: "${name}" may hold letters, digits, dots, dashes and underscores only (at most 200)`, field);
  }
  return stored;
}

/**
 * What a certificate covers. A SAN certificate covers the root domain and, as
 * the portal defines it, `*.root` with DNS or `www.root` with HTTP (which cannot
 * validate wildcards); any other covers the one host, which lies in the root domain.
 */
export function coveredNames(host: string, rootDomain: string, isSAN: boolean, type: ChallengeType): string[] {
  if (isSAN) return [rootDomain, type === 'dns-01' ? `*.${rootDomain}` : `www.${rootDomain}`];
  if (host.startsWith('*.') && type !== 'dns-01') {
    throw new UsageError(`challengeType: "${host}" is a wildcard, which only the DNS challenge can validate; use DNS`, 'challengeType');
  }
  return [host];
}

/** Throws unless `host` is the root domain or a name under it. */
export function checkInRoot(host: string, rootDomain: string, field: string): void {
  const bare = host.replace(/^\*\./, '');
  if (bare === rootDomain || bare.endsWith(`.${rootDomain}`)) return;
  throw new UsageError(`${field}: "${host}" is not in rootDomain "${rootDomain}"; the root domain is the apex of the name, e.g. contoso.com for shop.contoso.com`, field);
}

export interface RclCertificateSpec {
  subscriptionId: string;
  name: string;
  names: string[];
  rootDomain: string;
  challengeType: ChallengeType;
  email?: string | null;
  issuer: IssuerSpec;
  csrInfo?: CsrSubject;
}

export function certkeepRequest(spec: RclCertificateSpec): ValidRequest {
  return validateRequest({
    subscriptionId: spec.subscriptionId,
    name: spec.name,
    names: spec.names,
    challengeType: spec.challengeType,
    challengeConfig: { rootDomain: spec.rootDomain },
    issuers: [{ ...spec.issuer, ...(spec.email ? { email: emailOf(spec.email) } : {}) }],
    csrInfo: spec.csrInfo,
  });
}

function emailOf(value: string): string {
  const email = value.trim();
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw new UsageError(`email: "${value}" is not an e-mail address`, 'email');
  return email;
}

export interface RclCsrInfo {
  countryName?: string | null;
  locality?: string | null;
  state?: string | null;
  organization?: string | null;
  organizationUnit?: string | null;
}

const CSR_FIELDS: [keyof RclCsrInfo, keyof CsrSubject][] = [
  ['countryName', 'country'],
  ['locality', 'locality'],
  ['state', 'state'],
  ['organization', 'organization'],
  ['organizationUnit', 'organizationalUnit'],
];

/** csrInfo as certkeep's subject; a field that cannot go into an X.509 name is refused by its RCL name. */
export function csrSubjectOf(info: RclCsrInfo): CsrSubject {
  const subject: CsrSubject = {};
  for (const [rcl, own] of CSR_FIELDS) {
    const value = info[rcl];
    if (value !== undefined && value !== null && value.trim() !== '') subject[own] = value;
  }
  const problem = validateCsrSubject(subject);
  if (problem) {
    const rcl = CSR_FIELDS.find(([, own]) => own === problem.field)![0];
    throw new UsageError(`csrInfo.${rcl}: "${subject[problem.field]}" ${problem.reason}`, `csrInfo.${rcl}`);
  }
  return subject;
}
