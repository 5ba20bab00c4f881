// TypeBox schemas more than one route group uses.
import { Type } from '@sinclair/typebox';

export const CertificateNameParams = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }),
});

export const CertificateSummary = Type.Object({
  name: Type.String(),
  state: Type.String(),
  names: Type.Array(Type.String()),
  serial: Type.Union([Type.String(), Type.Null()]),
  notBefore: Type.Union([Type.String(), Type.Null()]),
  notAfter: Type.Union([Type.String(), Type.Null()]),
  nextRenewalAt: Type.Union([Type.String(), Type.Null()]),
});

export const ValidationToken = Type.Object({
  identifier: Type.String(),
  wildcard: Type.Boolean(),
  challengeType: Type.String(),
  token: Type.String(),
  keyAuthorization: Type.String({ description: 'HTTP-01: the content of /.well-known/acme-challenge/<token>' }),
  dnsValue: Type.String({ description: 'DNS-01: the TXT value at recordName' }),
  recordName: Type.String(),
  status: Type.String(),
});

export const OrderView = Type.Object({
  id: Type.String(),
  certificate: Type.String(),
  status: Type.Union(['pending', 'ready', 'processing', 'valid', 'invalid'].map((s) => Type.Literal(s))),
  step: Type.String(),
  goal: Type.String(),
  challengeType: Type.String(),
  answeredBy: Type.Union([Type.Literal('certkeep'), Type.Literal('client')]),
  orderUrl: Type.Union([Type.String(), Type.Null()]),
  certificateUrl: Type.Union([Type.String(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  tokens: Type.Array(ValidationToken),
});

/** Where one deploy target of a certificate stands (an agent's, or certkeep's own on a host). */
export const Deployment = Type.Object({
  agent: Type.Union([Type.String(), Type.Null()], { description: 'the agent that deploys it; null for a target certkeep deploys itself on `host`' }),
  host: Type.Union([Type.String(), Type.Null()]),
  target: Type.String(),
  directory: Type.String(),
  serial: Type.Union([Type.String(), Type.Null()], { description: "the certificate's current serial, which this line is about" }),
  status: Type.Union([Type.Literal('pending'), Type.Literal('deployed'), Type.Literal('failed')]),
  verifiedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()], { description: 'why it failed, or what the host refused' }),
});
