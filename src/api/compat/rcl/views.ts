// certkeep's certificates and orders in the RCL API's shapes: the Certificate
// object, the Order, the validation tokens.
import type { Static } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import {
  type CertificateRow,
  certificateFiles,
  certificateHistory,
  certificateNumber,
  currentVersionIn,
  type Engine,
  isFinished,
  isoTime,
  type OrderRow,
  type OrderView,
  orderView,
  storedPfxPassword,
  subscriptionNumber,
} from '../../../engine/index.ts';
import { downloadLinks, publicBase } from '../../download-links.ts';
import { type Certificate, DOWNLOAD_FIELDS, type Order, type ValidationToken } from './schemas.ts';

/** Gen 3 writes challenge types as its clients send them (dns, http); gens 1 and 2 upper-case them. */
export type Spelling = 'lower' | 'upper';

export interface ViewOptions {
  /** Scheme and host for the download links. */
  base: string;
  /** A write-scoped caller: may see the password, the PFX and the key links. */
  mayReadKey: boolean;
  spelling: Spelling;
}

/** For a request: links on the host it came to, secrets for write-scoped keys only. */
export function viewOptions(request: FastifyRequest, spelling: Spelling): ViewOptions {
  return { base: publicBase(request), mayReadKey: request.caller.scopes.includes('write'), spelling };
}

const SECRET_FIELDS = new Set(['pfxUrl', 'keyUrl', 'keyTxtUrl']);

export function rootDomainOf(certificate: CertificateRow): string {
  const { rootDomain } = certificate.challenge_config;
  if (rootDomain) return rootDomain;
  // Certificates made over the native API: their first name, as the apex.
  return certificate.identifiers[0].value.replace(/^\*\./, '');
}

/** SAN in the portal's sense: the root domain with *.root (DNS) or www.root (HTTP). */
export function isSan(certificate: CertificateRow): boolean {
  const root = rootDomainOf(certificate);
  const names = certificate.identifiers.map((i) => i.value).sort().join(' ');
  return [`*.${root}`, `www.${root}`].some((second) => [root, second].sort().join(' ') === names);
}

export function challengeName(type: string, spelling: Spelling): string {
  const short = type.replace(/-01$/, '');
  return spelling === 'upper' ? short.toUpperCase() : short;
}

export function validationTokens(view: OrderView, rootDomain: string): Static<typeof ValidationToken>[] {
  const type = challengeName(view.challengeType, 'upper');
  return view.tokens.map((token) =>
    view.challengeType === 'dns-01'
      ? { tokenName: relativeTo(token.recordName, rootDomain), tokenValue: token.dnsValue, challengeType: type, domain: token.identifier }
      : { tokenName: token.token, tokenValue: token.keyAuthorization, challengeType: type, domain: token.identifier },
  );
}

export function rclOrder(order: OrderRow, certificate: CertificateRow): Static<typeof Order> {
  const view = orderView(order, certificate);
  return {
    status: view.status,
    validationTokens: validationTokens(view, rootDomainOf(certificate)),
    challenges: view.tokens.map((token) => ({ challengeType: view.challengeType, status: challengeStatus(token.status, view.status), token: token.token })),
    orderUri: view.orderUrl,
    certificateUri: view.certificateUrl,
  };
}

export async function certificateObject(ctx: Engine, certificate: CertificateRow, options: ViewOptions): Promise<Static<typeof Certificate>> {
  const { orders, versions } = await certificateHistory(ctx, certificate);
  const latest = orders.at(-1);
  const open = latest && !isFinished(latest.step) ? latest : undefined;
  const version = currentVersionIn(certificate, versions);
  const rootDomain = rootDomainOf(certificate);
  return {
    certificateName: certificate.name,
    rootDomain,
    challengeType: challengeName(certificate.challenge_type, options.spelling),
    email: certificate.issuers[0]?.email ?? null,
    password: options.mayReadKey ? (storedPfxPassword(ctx, certificate) ?? null) : null,
    target: 'Stand Alone',
    isSAN: isSan(certificate),
    orderUri: latest?.order_url ?? null,
    subscriptionId: await subscriptionNumber(ctx, certificate.subscription_id),
    tokens: open ? validationTokens(orderView(open, certificate), rootDomain) : [],
    pfxString: version && options.mayReadKey ? await pfxString(ctx, certificate) : null,
    // The vendor's clients read the dates as non-nullable DateTime: before the first issuance they are left out.
    ...(version ? { issueDate: isoTime(version.not_before), expiryDate: isoTime(version.not_after) } : {}),
    id: await certificateNumber(ctx, certificate.id),
    certificateDownloadUrl: certificate.current_version_id ? links(ctx, certificate, certificate.current_version_id, options) : null,
  };
}

function links(ctx: Engine, certificate: CertificateRow, versionId: string, options: ViewOptions): Static<typeof Certificate>['certificateDownloadUrl'] {
  const fields = Object.entries(DOWNLOAD_FIELDS).filter(([field]) => options.mayReadKey || !SECRET_FIELDS.has(field));
  const signed = downloadLinks(
    ctx.store.secrets,
    options.base,
    { subscriptionId: certificate.subscription_id, name: certificate.name, versionId },
    fields.map(([, format]) => format),
    ctx.clock.now(),
  );
  return Object.fromEntries(Object.keys(DOWNLOAD_FIELDS).map((field) => [field, signed[DOWNLOAD_FIELDS[field as keyof typeof DOWNLOAD_FIELDS]] ?? null])) as Static<
    typeof Certificate
  >['certificateDownloadUrl'];
}

async function pfxString(ctx: Engine, certificate: CertificateRow): Promise<string | null> {
  if (!certificate.pfx_password_enc) return null;
  const files = await certificateFiles(ctx, certificate.subscription_id, certificate.name);
  return files.pfx ? Buffer.from(files.pfx).toString('base64') : null;
}

/** ACME challenge statuses (RFC 8555 §7.1.6) for what certkeep remembers of each authorization. */
function challengeStatus(recorded: string, orderStatus: string): string {
  if (recorded === 'valid') return 'valid';
  if (orderStatus === 'invalid') return 'invalid';
  return recorded === 'responded' ? 'processing' : 'pending';
}

function relativeTo(recordName: string, rootDomain: string): string {
  return recordName.endsWith(`.${rootDomain}`) ? recordName.slice(0, -(rootDomain.length + 1)) : recordName;
}
