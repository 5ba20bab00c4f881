// Order and authorization rules that need no network: the newOrder payload
// (profiles, ARI `replaces`) and when a polled resource is settled.
import { AcmeAuthorizationError, AcmeOrderError, AcmeProfileError } from './errors.ts';
import type {
  AcmeAuthorization,
  AcmeChallenge,
  AcmeDirectory,
  AcmeIdentifier,
  AcmeOrder,
  AcmeOrderStatus,
} from './types.ts';

export interface NewOrderRequest {
  identifiers: AcmeIdentifier[];
  /** Certificate profile (draft-ietf-acme-profiles); must be one the directory lists in meta.profiles. */
  profile?: string;
  /** ARI certificate id of the certificate this order replaces (RFC 9773 §5). */
  replaces?: string;
}

export function newOrderPayload(dir: AcmeDirectory, req: NewOrderRequest, directoryUrl: string): string {
  const payload: NewOrderRequest = { identifiers: req.identifiers };
  if (req.profile !== undefined) {
    const offered = Object.keys(dir.meta?.profiles ?? {});
    if (!offered.includes(req.profile)) throw new AcmeProfileError(req.profile, offered, directoryUrl);
    payload.profile = req.profile;
  }
  // A CA without renewalInfo does not know the field; RFC 9773 ties it to ARI support.
  if (req.replaces !== undefined && dir.renewalInfo) payload.replaces = req.replaces;
  return JSON.stringify(payload);
}

const ORDER_PROGRESS: Record<AcmeOrderStatus, number> = {
  pending: 0,
  ready: 1,
  processing: 2,
  valid: 3,
  invalid: 4,
};

/** Settled once the order reaches one of `until`, or has moved past all of them; invalid throws. */
export function orderSettled(until: AcmeOrderStatus[], url: string): (order: AcmeOrder) => boolean {
  const furthest = Math.max(...until.map((s) => ORDER_PROGRESS[s]));
  return (order) => {
    if (order.status === 'invalid') throw new AcmeOrderError(order, url);
    return until.includes(order.status) || ORDER_PROGRESS[order.status] > furthest;
  };
}

/** Settled when valid; any final state other than valid throws with the failed challenge's error. */
export function authorizationSettled(url: string): (authz: AcmeAuthorization) => boolean {
  return (authz) => {
    if (authz.status === 'valid') return true;
    if (authz.status === 'pending') return false;
    throw new AcmeAuthorizationError(authz, url);
  };
}

/**
 * A challenge is done when it is valid: its authorization then is too (RFC 8555 §7.1.6).
 * An invalid challenge fails like its authorization would, with the challenge's error.
 */
export function challengeSettled(url: string, identifier: AcmeIdentifier): (challenge: AcmeChallenge) => boolean {
  return (challenge) => {
    if (challenge.status === 'valid') return true;
    if (challenge.status === 'pending' || challenge.status === 'processing') return false;
    throw new AcmeAuthorizationError({ identifier, status: 'invalid', challenges: [challenge] } as AcmeAuthorization, url);
  };
}
