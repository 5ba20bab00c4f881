// The vendor's objects as far as certkeep reads or writes them (field names
// from its public API specification). Request bodies are lenient: the vendor's
// SDKs send whole models, with nulls and fields certkeep has no use for, so
// unknown fields are accepted and ignored; the fields certkeep reads are typed.
import { type Static, type TSchema, Type } from '@sinclair/typebox';

const Nullable = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));
const Text = (maxLength: number, description?: string) => Type.String({ maxLength, ...(description ? { description } : {}) });

const AuthMethod = Type.String({
  maxLength: 20,
  description: 'DNS (a TXT record, the default) or FILE (a file on the web server); EMAIL and ORG are refused: ACME has no such validation',
});

/** How one name is validated (the vendor's CertAuthentication). */
export const CertAuthentication = Type.Object({
  name: Type.Optional(Type.String()),
  method: Type.Optional(Type.String()),
  dns: Type.Optional(Type.String({ description: 'the TXT record to place, as zone-file text' })),
  fileName: Type.Optional(Type.String({ description: 'the path to serve the file at: /.well-known/acme-challenge/<token>' })),
  fileContent: Type.Optional(Type.String({ description: 'the file content (the ACME key authorization)' })),
  provisioning: Type.Optional(Type.Boolean({ description: 'true: nothing for the client to place — certkeep writes and removes the record itself (the name lies in a managed zone), or the name is valid already' })),
  valid: Type.Optional(Type.Boolean({ description: 'true: the CA already holds a valid authorization for this name (a renewal soon after the last order); nothing to place' })),
});
export type CertAuthentication = Static<typeof CertAuthentication>;

const AuthenticationIn = Type.Object({ method: Nullable(AuthMethod) }, { additionalProperties: true });

const TimePeriod = Type.Object({ unit: Type.Optional(Type.String()), period: Type.Optional(Type.Integer()) });

/** POST /certificate/_prepareOrder: the vendor's CertificateData. */
export const PrepareOrderBody = Type.Object(
  {
    plain: Text(20_000, 'the CSR, PEM'),
    name: Nullable(Text(200, "the certificate's id; default: the CSR's CN, else its first name")),
    product: Nullable(Text(100, 'accepted and ignored: the ACME CA issues domain-validated certificates')),
    authentication: Nullable(
      Type.Union([Type.Array(AuthenticationIn, { maxItems: 100 }), AuthenticationIn], { description: 'the method asked for: FILE for HTTP validation, else DNS' }),
    ),
  },
  { additionalProperties: true },
);
export type PrepareOrderBody = Static<typeof PrepareOrderBody>;

/** PUT /certificate/{id}/_renew and POST /certificate: the vendor's Certificate, as far as read. */
export const OrderBody = Type.Object(
  {
    name: Nullable(Text(200, 'POST /certificate: the id of the prepared certificate; default: named after the CSR')),
    csr: Nullable(Text(20_000, 'a CSR, PEM: the prepared one, or a new one to order with')),
    authentication: Nullable(AuthenticationIn),
    lifetime: Nullable(Type.Object({}, { additionalProperties: true, description: 'accepted and ignored: the CA sets the lifetime' })),
    product: Nullable(Text(100)),
  },
  { additionalProperties: true },
);
export type OrderBody = Static<typeof OrderBody>;

/** The vendor's CertificateData as _prepareOrder answers it. */
export const CertificateData = Type.Object({
  plain: Type.String(),
  name: Type.String({ description: "the certificate's id in the other tasks" }),
  san: Type.Array(Type.String()),
  keySize: Type.Integer(),
  algorithm: Type.Optional(Type.Union(['RSA', 'ECC', 'DSA'].map((a) => Type.Literal(a)), { description: "the CSR's key algorithm" })),
  signatureHashAlgorithm: Type.Optional(Type.String({ description: "the hash of the CSR's signature: SHA1, SHA256, SHA384 or SHA512" })),
  countryCode: Type.Optional(Type.String()),
  state: Type.Optional(Type.String()),
  city: Type.Optional(Type.String()),
  organization: Type.Optional(Type.String()),
  organizationUnit: Type.Optional(Type.String()),
  email: Type.Optional(Type.String()),
  product: Type.Optional(Type.String()),
  authentication: Type.Array(CertAuthentication),
});

/** The vendor's Certificate as certkeep fills it. */
export const Certificate = Type.Object({
  id: Type.Integer({ description: "the certificate's number: an int32, as the vendor's clients read it; paths take it or the name" }),
  name: Type.String(),
  created: Type.String(),
  updated: Type.String(),
  product: Type.String(),
  certificateType: Type.String(),
  subjectAlternativeNames: Type.Array(Type.Object({ name: Type.String() })),
  server: Type.Optional(Type.String({ description: 'the certificate, PEM' })),
  certificationAuthority: Type.Optional(Type.Array(Type.Object({ caType: Type.String(), caCertificate: Type.String() }))),
  serialNumber: Type.Optional(Type.String({ description: 'upper-case hex' })),
  expire: Type.Optional(Type.String()),
  lifetime: Type.Optional(TimePeriod),
  csr: Type.Optional(Type.String({ description: 'the CSR the current version was issued for, when the client sent one' })),
  histories: Type.Optional(Type.Array(Type.Object({ serialNumber: Type.String() }))),
});
export type Certificate = Static<typeof Certificate>;

const Job = Type.Object({
  id: Type.String({ description: "certkeep's order id" }),
  status: Type.Union(['RUNNING', 'SUCCESS', 'FAILED', 'CANCELED', 'WAIT'].map((s) => Type.Literal(s))),
  subStatus: Type.Optional(Type.String()),
  action: Type.String(),
  subType: Type.String(),
  created: Type.String(),
  updated: Type.String(),
  execution: Type.Optional(Type.String()),
});
export type Job = Static<typeof Job>;

/** The vendor's ObjectJob: what an asynchronous task answers. */
export const ObjectJob = Type.Object({ job: Job, object: Type.Object({ type: Type.String(), value: Type.String() }) });
export type ObjectJob = Static<typeof ObjectJob>;

/** The vendor's PollMessage: a job's result or a notification. */
export const PollMessage = Type.Object({
  id: Type.Integer(),
  stid: Type.String(),
  created: Type.String(),
  job: Type.Optional(Job),
  notify: Type.Optional(Type.Object({ type: Type.String() })),
  object: Type.Object({
    type: Type.String(),
    value: Type.String(),
    data: Type.Optional(
      Type.Object({
        id: Type.Optional(Type.Integer({ description: "the certificate's number, while the certificate exists" })),
        name: Type.String(),
        serialNumber: Type.Optional(Type.String()),
        expire: Type.Optional(Type.String()),
      }),
    ),
  }),
  messages: Type.Array(
    Type.Object({ text: Type.String(), code: Type.String(), type: Type.String(), status: Type.String() }),
  ),
});
export type PollMessage = Static<typeof PollMessage>;

const QueryFilter = Type.Recursive((self) =>
  Type.Object(
    {
      key: Nullable(Type.String({ maxLength: 50 })),
      value: Nullable(Type.String({ maxLength: 500 })),
      operator: Nullable(Type.String({ maxLength: 20 })),
      link: Nullable(Type.String({ maxLength: 3 })),
      filters: Nullable(Type.Array(self, { maxItems: 50 })),
    },
    { additionalProperties: true },
  ),
);
export type QueryFilter = Static<typeof QueryFilter>;

/** POST /certificate/_search: the vendor's Query. */
export const QueryBody = Type.Object(
  {
    filters: Nullable(Type.Array(QueryFilter, { maxItems: 50 })),
    view: Nullable(
      Type.Object(
        { limit: Nullable(Type.Integer({ minimum: 0 })), offset: Nullable(Type.Integer({ minimum: 0 })) },
        { additionalProperties: true },
      ),
    ),
    orders: Nullable(
      Type.Array(Type.Object({ key: Nullable(Type.String({ maxLength: 50 })), type: Nullable(Type.String({ maxLength: 4 })) }, { additionalProperties: true }), {
        maxItems: 5,
      }),
    ),
  },
  { additionalProperties: true },
);
export type QueryBody = Static<typeof QueryBody>;

export const CertificateParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 200, description: "the certificate's number (the id certkeep answers), or its name" }),
});
export const MessageParams = Type.Object({ id: Type.Integer({ minimum: 1, description: 'the message id from GET /poll' }) });
