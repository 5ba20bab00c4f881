// The portal is one more client of /api/v1: every request goes there, with the
// session cookie, and every change carries the session's CSRF token.

export interface Problem {
  status: number;
  detail: string;
  errors?: { field: string; message: string }[];
}

export class ApiError extends Error {
  readonly status: number;
  readonly fields: Record<string, string>;
  readonly retryAfter: number | undefined;
  constructor(problem: Problem, retryAfter?: number) {
    super(problem.detail);
    this.status = problem.status;
    this.fields = Object.fromEntries((problem.errors ?? []).map((e) => [e.field, e.message]));
    this.retryAfter = retryAfter;
  }
}

export type Role = 'viewer' | 'operator' | 'admin';

export interface Me {
  subscriptionId: string;
  scopes: string[];
  user: { id: string; email: string; role: Role; mustChangePassword: boolean } | null;
  csrfToken: string | null;
}

let csrfToken: string | null = null;
/** Called when the server says the session has ended, so that the app shows the sign-in page. */
let onSignedOut: () => void = () => {};

export function setSession(me: Me | null, signedOut?: () => void): void {
  csrfToken = me?.csrfToken ?? null;
  if (signedOut) onSignedOut = signedOut;
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch {
    throw new ApiError({
      status: 0,
      detail: 'The server could not be reached. Check your connection and try again.',
    });
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const parsed = text ? safeJson(text) : undefined;
  if (!response.ok) {
    const problem: Problem =
      parsed && typeof parsed === 'object' && 'detail' in parsed
        ? (parsed as Problem)
        : { status: response.status, detail: `The server answered ${response.status}.` };
    if (response.status === 401 && path !== '/session') onSignedOut();
    const retry = Number(response.headers.get('retry-after'));
    throw new ApiError(
      { ...problem, status: response.status },
      Number.isFinite(retry) && retry > 0 ? retry : undefined,
    );
  }
  return parsed as T;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A message for a person: the server's words, with its first letter raised. */
export function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// ---- Shapes the pages read (as the API's OpenAPI document describes them) ----

export interface CertificateSummary {
  name: string;
  state: string;
  names: string[];
  serial: string | null;
  notBefore: string | null;
  notAfter: string | null;
  nextRenewalAt: string | null;
}

export interface EventView {
  id: number;
  type: string;
  certificate: string | null;
  payload: Record<string, unknown>;
  createdAt: string;
}

export interface Token {
  identifier: string;
  wildcard: boolean;
  challengeType: string;
  token: string;
  keyAuthorization: string;
  dnsValue: string;
  recordName: string;
  status: string;
}

export interface Order {
  id: string;
  certificate: string;
  status: string;
  step: string;
  goal: string;
  challengeType: string;
  answeredBy: 'certkeep' | 'client';
  error: string | null;
  tokens: Token[];
  createdAt: string;
  updatedAt: string;
}

export interface CertificateDetails extends CertificateSummary {
  keyType: string;
  profile: string | null;
  challengeType: string;
  answeredBy: 'certkeep' | 'client';
  autoRenew: boolean;
  renewBefore: string | null;
  cas: string[];
  hasPfxPassword: boolean;
  failures: number;
  lastError: string | null;
  retryAt: string | null;
  createdAt: string;
  versions: {
    id: string;
    serial: string;
    notBefore: string;
    notAfter: string;
    ca: string;
    renewalWindow: { start: string; end: string } | null;
    createdAt: string;
    current: boolean;
  }[];
  orders: Order[];
  events: EventView[];
  deployments?: Deployment[];
}

/** Where one deploy target of a certificate stands: an agent's, or certkeep's own on a host. */
export interface Deployment {
  agent: string | null;
  host: string | null;
  target: string;
  directory: string;
  serial: string | null;
  status: 'pending' | 'deployed' | 'failed';
  verifiedAt: string | null;
  error: string | null;
}

/** A host agent and what it serves (GET /agents). */
export interface Agent {
  id: string;
  host: string;
  createdAt: string;
  rotatedAt: string | null;
  lastSeenAt: string | null;
  targets: AgentTarget[];
}

export interface AgentTarget {
  id: string;
  certificate: string;
  directory: string;
  format: string;
  reload: string | null;
  deployHook: string | null;
  verify: string[];
  status: 'deployed' | 'pending' | 'failed' | 'waiting';
  currentSerial: string | null;
  serial: string | null;
  verifiedAt: string | null;
  error: string | null;
}

export interface Dashboard {
  counts: { total: number; byState: Record<string, number> };
  expiring: { withinDays: number; count: number; expired: number; soonest: CertificateSummary[] };
  failing: {
    count: number;
    certificates: {
      name: string;
      state: string;
      failures: number;
      lastError: string | null;
      retryAt: string | null;
      notAfter: string | null;
    }[];
  };
  expiryHistogram: number[];
  recentEvents: EventView[];
}

export interface Zone {
  zone: string;
  provider: string;
  nameservers: string[];
  settings: Record<string, string>;
  delegation?: { record: string; target: string };
}

export interface Provider {
  name: string;
  description: string;
  settings: { name: string; description: string; required: boolean; secret: boolean }[];
}
