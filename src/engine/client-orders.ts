// Orders for a client's own CSR, in the two steps registrar-style APIs take:
// prepare (check the CSR, place the order, hand out the validation tokens),
// then finish (validate and finalize in the background). The client keeps its
// key; certkeep stores none. The compatibility adapters call these and only
// translate shapes.
import { NotFoundError, UsageError } from '../errors.ts';
import { type ParsedCsr, PkiInputError, parseCsr } from '../pki/index.ts';
import { type CertificateRow, findCertificate, getVersion } from '../store/repositories/certificates.ts';
import { findOpenOrder, listOrders } from '../store/repositories/orders.ts';
import type { ChallengeType } from '../challenges/solver.ts';
import { validateRequest } from './requests.ts';
import type { EngineContext } from './context.ts';
import type { OrderGoal } from './issuance.ts';
import type { IssuerSpec } from './issuers.ts';
import { inManagedZones } from './solvers.ts';
import { mustFindCertificate } from './lookups.ts';
import { type Answerer, raiseGoal, type StartedOrder, startCertificate, startRenewal, supersedeOpenOrder } from './orders.ts';

/** The smallest RSA modulus accepted in a client's CSR. */
export const MIN_RSA_BITS = 2048;
/** The EC curves accepted in a client's CSR (the ones CAs issue for). */
export const ACCEPTED_CURVES: readonly string[] = ['P-256', 'P-384'];

/**
 * A client's CSR, checked before anything is stored or sent to the CA: it
 * parses, its signature holds, its key is RSA ≥ 2048 bits or EC P-256/P-384,
 * and it names at least one domain. Every refusal names the field and the fix.
 */
export function checkClientCsr(csrPem: string, field = 'csr'): ParsedCsr {
  let csr: ParsedCsr;
  try {
    csr = parseCsr(csrPem);
  } catch (error) {
    if (error instanceof PkiInputError) throw new UsageError(`${field}: ${error.message.replace(/^CSR: /, '')}; send the CSR as PEM`, field);
    throw error;
  }
  if (!csr.signatureValid) {
    throw new UsageError(`${field}: the CSR's signature does not verify with its own public key; create the CSR again`, field);
  }
  const keyProblem = csrKeyProblem(csr);
  if (keyProblem) throw new UsageError(`${field}: ${keyProblem}`, field);
  if (csr.identifiers.length === 0) {
    throw new UsageError(`${field}: the CSR names no domain; put the name in its CN or subjectAltName`, field);
  }
  return csr;
}

function csrKeyProblem(csr: ParsedCsr): string | undefined {
  if (csr.keyType === 'rsa') {
    return csr.keyBits < MIN_RSA_BITS ? `the RSA key has ${csr.keyBits} bits; the minimum is ${MIN_RSA_BITS} bits` : undefined;
  }
  if (csr.keyType === 'ec') {
    return ACCEPTED_CURVES.includes(csr.curve ?? '') ? undefined : `the EC key is on curve ${csr.curve}; use ${ACCEPTED_CURVES.join(' or ')}`;
  }
  return `the key is ${csr.keyType}; use RSA (at least ${MIN_RSA_BITS} bits) or EC ${ACCEPTED_CURVES.join('/')}`;
}

export interface ClientCsrRequest {
  subscriptionId: string;
  csrPem: string;
  challengeType: Extract<ChallengeType, 'dns-01' | 'http-01'>;
  /** Who places the answers; 'auto': certkeep where every name lies in a managed zone. */
  answers: Answerer;
  issuer: IssuerSpec;
  /** Default: the CSR's CN, else its first name (`*.` becomes `wildcard.`). */
  name?: string;
  goal: OrderGoal;
  /** What the caller's request calls the CSR, for error messages; default 'csr'. */
  csrField?: string;
}

export interface PreparedOrder extends StartedOrder {
  csr: ParsedCsr;
}

/**
 * Checks the CSR and opens an order for its names: a new certificate, or a new
 * order for the certificate of that name (its open order is superseded). With
 * goal 'placed' the workers stop once the tokens are known.
 */
export async function prepareClientOrder(ctx: EngineContext, request: ClientCsrRequest): Promise<PreparedOrder> {
  const csr = checkClientCsr(request.csrPem, request.csrField);
  const valid = validateRequest({
    subscriptionId: request.subscriptionId,
    name: request.name,
    names: commonNameFirst(csr),
    challengeType: request.challengeType,
    keyType: csr.matchingKeyType,
    issuers: [request.issuer],
  });
  const started = await startCertificate(ctx, valid, { answers: request.answers, goal: request.goal, csrPem: request.csrPem, replaceExisting: true });
  return { ...started, csr };
}

/**
 * Takes a certificate to a new version for its client: the open order, raised
 * to 'valid', when there is one for the same CSR (or none is given); otherwise
 * a new order — for the CSR given, or with a new key where certkeep holds the
 * certificate's keys. A new order that the client would answer itself is
 * refused: the client has not seen its tokens and must prepare one first.
 */
export async function finishClientOrder(ctx: EngineContext, subscriptionId: string, name: string, csrPem?: string): Promise<StartedOrder> {
  const certificate = await mustFindCertificate(ctx, subscriptionId, name);
  const csr = csrPem === undefined ? undefined : checkClientCsr(csrPem);
  const open = await findOpenOrder(ctx.store.db, certificate.id);
  if (open && (!csr || sameCsr(open.csr, csr))) return { certificate, order: await raiseGoal(ctx, open, 'valid') };
  if (certificate.challenge_config.manual === true) {
    throw new UsageError(
      `certificate "${name}" has no prepared order${open ? ' for this CSR' : ''}; prepare one with the CSR first, place the validation records it returns, then renew`,
      'csr',
    );
  }
  if (!csr && (await clientKeepsKey(ctx, certificate))) {
    throw new UsageError(`csr: certkeep holds no key for certificate "${name}" (it was issued for the client's CSR); send a CSR`, 'csr');
  }
  if (open) await supersedeOpenOrder(ctx, certificate.id);
  return startRenewal(ctx, subscriptionId, name, { goal: 'valid', csrPem });
}

/**
 * Creates a client's certificate: the prepared order of the certificate the
 * request names (or the CSR is named after) goes on as finishClientOrder does;
 * a certificate not prepared yet is ordered only where certkeep answers for
 * every name (DNS-01 in managed zones) — elsewhere the client must prepare first.
 */
export async function orderClientCertificate(ctx: EngineContext, request: Omit<ClientCsrRequest, 'goal' | 'answers' | 'csrPem'> & { csrPem?: string }): Promise<StartedOrder> {
  if (!request.name && !request.csrPem) throw new UsageError("csr: send the CSR, or name the prepared certificate", 'csr');
  const csr = request.csrPem === undefined ? undefined : checkClientCsr(request.csrPem);
  const name = request.name ?? certificateNameFor(request, csr!);
  if (await findCertificate(ctx.store.db, request.subscriptionId, name)) return finishClientOrder(ctx, request.subscriptionId, name, request.csrPem);
  if (!request.csrPem) throw new NotFoundError(`no certificate named "${name}" in this subscription; prepare it with its CSR first`);
  const names = csr!.identifiers.map((i) => i.value);
  if (request.challengeType !== 'dns-01' || !(await inManagedZones(ctx, request.subscriptionId, names))) {
    throw new UsageError(`csr: certificate "${name}" was not prepared; prepare it with the CSR first and place the validation records it returns (certkeep places them itself only for DNS validation in its managed zones)`, 'csr');
  }
  return prepareClientOrder(ctx, { ...request, name, csrPem: request.csrPem, answers: 'certkeep', goal: 'valid' });
}

function certificateNameFor(request: { subscriptionId: string; issuer: IssuerSpec; challengeType: ChallengeType }, csr: ParsedCsr): string {
  return validateRequest({ subscriptionId: request.subscriptionId, names: commonNameFirst(csr), challengeType: request.challengeType, issuers: [request.issuer] }).name;
}

/** The CN first, so that the certificate is named after it. */
function commonNameFirst(csr: ParsedCsr): string[] {
  const names = csr.identifiers.map((i) => i.value);
  const cn = csr.commonName?.toLowerCase();
  const index = cn ? names.findIndex((n) => n.toLowerCase() === cn) : -1;
  return index <= 0 ? names : [names[index], ...names.slice(0, index), ...names.slice(index + 1)];
}

function sameCsr(storedPem: string | null, csr: ParsedCsr): boolean {
  return storedPem !== null && Buffer.from(parseCsr(storedPem).der).equals(Buffer.from(csr.der));
}

/** Whether the certificate is the client's: issued (or, before its first version, ordered) for the client's CSR. */
async function clientKeepsKey(ctx: EngineContext, certificate: CertificateRow): Promise<boolean> {
  const version = certificate.current_version_id ? await getVersion(ctx.store.db, certificate.current_version_id) : undefined;
  if (version) return version.key_enc === '';
  const orders = await listOrders(ctx.store.db, certificate.id);
  return orders.at(-1)?.csr != null;
}
