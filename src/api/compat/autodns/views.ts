// certkeep's certificates, orders and events in the vendor's shapes.
import { type CertificateRow, isFinished, type OrderRow, orderView, type ParsedCsr, splitPemChain, type VersionRow } from '../../../engine/index.ts';
import { message, TASKS, vendorTime } from './envelope.ts';
import type { EventView } from '../../../notify/events.ts';
import type { CertAuthentication, Certificate, Job, ObjectJob, PollMessage } from './schemas.ts';

/** What certkeep's certificates are, in the vendor's product terms. */
const PRODUCT = 'ACME';
const DAY_MS = 86_400_000;

/**
 * One entry per name of the order, as the vendor lists them: the TXT record
 * (DNS) or the file (FILE) that proves control of it — or, for a name the CA
 * already holds a valid authorization for, `valid: true` and nothing to place
 * (`provisioning: true`, as for a record certkeep places itself).
 */
export function authentications(order: OrderRow, certificate: CertificateRow): CertAuthentication[] {
  const view = orderView(order, certificate);
  const provisioning = view.answeredBy === 'certkeep';
  const method = certificate.challenge_type === 'http-01' ? 'FILE' : 'DNS';
  return order.authorizations.flatMap((record): CertAuthentication[] => {
    const name = record.wildcard ? `*.${record.identifier.value}` : record.identifier.value;
    const token = view.tokens.find((t) => t.token === record.token);
    if (!token) return record.status === 'valid' ? [{ name, method, provisioning: true, valid: true }] : [];
    return method === 'FILE'
      ? [{ name, method, fileName: `/.well-known/acme-challenge/${token.token}`, fileContent: token.keyAuthorization, provisioning }]
      : [{ name, method, dns: `${token.recordName}. 300 IN TXT "${token.dnsValue}"`, provisioning }];
  });
}

/** The vendor's key algorithms (CsrHashAlgorithmConstants, despite the name) for a CSR's key type. */
const KEY_ALGORITHMS: Record<string, 'RSA' | 'ECC' | 'DSA'> = { rsa: 'RSA', 'rsa-pss': 'RSA', ec: 'ECC', dsa: 'DSA' };

/** The vendor's CertificateData for a checked CSR and its prepared order. */
export function certificateData(plain: string, csr: ParsedCsr, certificate: CertificateRow, product: string | undefined, auth: CertAuthentication[]) {
  const subject = csr.subjectFields;
  const hash = /sha-?(1|256|384|512)/i.exec(csr.signatureAlgorithm)?.[1];
  const algorithm = KEY_ALGORITHMS[csr.keyType];
  return {
    plain,
    name: certificate.name,
    san: csr.identifiers.map((i) => i.value),
    keySize: csr.keyBits,
    ...(algorithm ? { algorithm } : {}),
    ...(hash ? { signatureHashAlgorithm: `SHA${hash}` } : {}),
    ...(subject.country ? { countryCode: subject.country } : {}),
    ...(subject.state ? { state: subject.state } : {}),
    ...(subject.locality ? { city: subject.locality } : {}),
    ...(subject.organization ? { organization: subject.organization } : {}),
    ...(subject.organizationalUnit ? { organizationUnit: subject.organizationalUnit } : {}),
    ...(subject.email ? { email: subject.email } : {}),
    product: product ?? PRODUCT,
    authentication: auth,
  };
}

/** The vendor's Certificate: the stored certificate and, once issued, its current version. */
export function certificateView(
  certificate: Pick<CertificateRow, 'name' | 'created_at' | 'updated_at' | 'identifiers'>,
  number: number,
  version: VersionRow | undefined,
  csr: string | null,
  history: string[] = [],
): Certificate {
  const names = certificate.identifiers.map((i) => ({ name: i.value }));
  const view: Certificate = {
    id: number,
    name: certificate.name,
    created: vendorTime(certificate.created_at),
    updated: vendorTime(certificate.updated_at),
    product: PRODUCT,
    certificateType: 'FQDN',
    subjectAlternativeNames: names,
  };
  if (!version) return view;
  const [server, ...authorities] = splitPemChain(version.chain_pem);
  return {
    ...view,
    server,
    certificationAuthority: authorities.map((caCertificate) => ({ caType: 'INTERMEDIATE', caCertificate })),
    serialNumber: version.serial.toUpperCase(),
    expire: vendorTime(version.not_after),
    lifetime: { unit: 'DAY', period: Math.round((version.not_after - version.not_before) / DAY_MS) },
    ...(csr ? { csr } : {}),
    ...(history.length > 0 ? { histories: history.map((serial) => ({ serialNumber: serial.toUpperCase() })) } : {}),
  };
}

/** The job an asynchronous task started: the order, running in the background. */
export function objectJob(order: OrderRow, certificate: CertificateRow, action: 'create' | 'renew' | 'reissue'): ObjectJob {
  return { job: job(order.id, 'RUNNING', action, order.created_at, order.updated_at), object: { type: 'Certificate', value: certificate.name } };
}

function job(id: string, status: Job['status'], action: string, created: number, updated: number, subStatus?: string): Job {
  return { id, status, action, subType: 'certificate', created: vendorTime(created), updated: vendorTime(updated), ...(subStatus ? { subStatus } : {}) };
}

interface EventPayload {
  name?: string;
  orderId?: string;
  serial?: string;
  notAfter?: string;
  error?: string;
}

/**
 * A poll message for an event: issued/renewed are successful jobs, failures are
 * failed jobs — or still running ones when the order will be tried again —,
 * anything else a notification naming the certificate.
 */
export function pollMessage(event: EventView, order: OrderRow | undefined, number: number | undefined): PollMessage {
  const payload = event.payload as EventPayload;
  const name = payload.name ?? event.certificate ?? '';
  const createdAt = Date.parse(event.createdAt);
  const base = { id: event.id, stid: `${vendorTime(createdAt).slice(0, 10).replaceAll('-', '')}-certkeep-e${event.id}`, created: vendorTime(createdAt) };
  const object = { type: 'Certificate', value: name };
  const action = event.type === 'certificate.renewed' || event.type === 'renewal.failed' ? 'renew' : 'create';
  const task = action === 'renew' ? TASKS.renew : TASKS.create;
  if (event.type === 'certificate.issued' || event.type === 'certificate.renewed') {
    const data = { ...(number === undefined ? {} : { id: number }), name, ...(payload.serial ? { serialNumber: payload.serial.toUpperCase() } : {}), ...(payload.notAfter ? { expire: vendorTime(Date.parse(payload.notAfter)) } : {}) };
    const text = `certificate "${name}" was ${action === 'renew' ? 'renewed' : 'issued'}${payload.serial ? ` (serial ${payload.serial.toUpperCase()})` : ''}`;
    return {
      ...base,
      job: job(payload.orderId ?? '', 'SUCCESS', action, order?.created_at ?? createdAt, createdAt),
      object: { ...object, data },
      messages: [message(`S${task}`, text, 'SUCCESS')],
    };
  }
  if (event.type === 'issuance.failed' || event.type === 'renewal.failed') {
    const retrying = order !== undefined && !isFinished(order.step);
    const retry = retrying && order.retry_at ? `; certkeep tries again from ${vendorTime(order.retry_at)}` : retrying ? '; certkeep tries again' : '';
    const text = `the order for certificate "${name}" failed: ${payload.error ?? 'unknown error'}${retry}`;
    return {
      ...base,
      job: job(payload.orderId ?? '', retrying ? 'RUNNING' : 'FAILED', action, order?.created_at ?? createdAt, createdAt, retrying ? 'RETRY' : undefined),
      object,
      messages: [message(`E${task}`, text, retrying ? 'NOTICE' : 'ERROR')],
    };
  }
  const type = event.type.toUpperCase().replaceAll('.', '_');
  return { ...base, notify: { type }, object, messages: [message('N0905', `certificate "${name}": ${event.type.replace('.', ' ')}`, 'NOTIFY')] };
}
