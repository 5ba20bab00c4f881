// Who calls the engine for a tenant, and what each may do: an API key
// (tenancy.ts, verified-keys.ts) or a person signed in to the portal
// (sessions.ts). Keys have scopes; a person's role maps onto them (users.ts),
// so a person and a key with the same scope may do exactly the same things.
import type { Role, Scope } from '../store/records.ts';

export type { Role, Scope } from '../store/records.ts';

const SCOPES: readonly Scope[] = ['read', 'write', 'admin'];

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** A scope with the ones it includes: write may also read, admin may do everything. */
export function scopesUpTo(scope: Scope): Scope[] {
  return SCOPES.slice(0, SCOPES.indexOf(scope) + 1);
}

export const ROLES: readonly Role[] = ['viewer', 'operator', 'admin'];

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

const ROLE_SCOPE: Record<Role, Scope> = { viewer: 'read', operator: 'write', admin: 'admin' };

/** viewer: read (no private keys or PFX); operator: also write; admin: also admin. */
export function scopesOfRole(role: Role): Scope[] {
  return scopesUpTo(ROLE_SCOPE[role]);
}

/** Who a verified key belongs to: the caller of a request made with it. */
export interface KeyCaller {
  subscriptionId: string;
  keyId: string;
  /** The public part of the key, `ck_` and 12 characters: safe to log and to count by. */
  keyPrefix: string;
  scopes: Scope[];
}

/** A person signed in to the portal, as the API sees them. */
export interface UserCaller {
  subscriptionId: string;
  scopes: Scope[];
  user: { id: string; email: string; role: Role; mustChangePassword: boolean };
  sessionId: string;
  /** Sent back in the x-csrf-token header of every change. */
  csrfToken: string;
}

/** Who makes an API request: an API key, or a person signed in to the portal. */
export type Caller = KeyCaller | UserCaller;

/** What a request made with a key or a session may be logged and rate-limited as: never a secret. */
export function principalOf(caller: Caller): string {
  return 'user' in caller ? `user:${caller.user.id}` : caller.keyPrefix;
}
