// The RCL API's shapes as TypeBox schemas (validation, serialization, OpenAPI).
// Request bodies accept fields certkeep does not use (clients send the whole
// Certificate object back, Azure fields included) and null for any field they
// leave unset, as the portal's .NET clients serialize it; the fields certkeep
// reads must have the right type.
import { type TSchema, Type } from '@sinclair/typebox';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Text = (maxLength: number, description?: string) => Type.String({ maxLength, ...(description ? { description } : {}) });
const Optional = <T extends TSchema>(schema: T) => Type.Optional(Nullable(schema));

export const TAGS = ['RCL compatibility'];

const ErrorText = Type.String({ description: 'what went wrong and what to fix' });
const TITLES: Record<number, string> = {
  400: 'the request is wrong: a field, an order in the wrong state, a name or CSR the CA refused',
  401: 'no key, an unknown key, or a key of another subscription',
  403: 'a read key on a route that changes something',
  404: 'no such certificate',
  429: "the rate limit (certkeep's, or the CA's): Retry-After says when to come back",
  500: "certkeep's own fault; the details are in its log",
  502: 'the CA failed or could not be reached',
  503: 'the CA is still working on the order, or the store is unavailable: try again',
};

/** The API's errors are text: each status with a text/plain body. */
function errors(...statuses: number[]) {
  return Object.fromEntries(statuses.map((status) => [status, { description: TITLES[status], content: { 'text/plain': { schema: ErrorText } } }]));
}

/** A route that reads; one that changes something (a write key); one that also has the CA act. */
export const READ_ERRORS = errors(400, 401, 404, 429, 500, 503);
export const WRITE_ERRORS = errors(400, 401, 403, 404, 429, 500, 503);
export const CA_ERRORS = errors(400, 401, 403, 404, 429, 500, 502, 503);

export const Sid = Type.String({ minLength: 1, maxLength: 64, description: "the subscription the API key belongs to: its id, or the number answered as subscriptionId" });
const CertificateName = Type.String({
  minLength: 1,
  maxLength: 253,
  description: "the certificate's name (for gen 1, its hostName; *.x is stored as wildcard.x), or in paths and queries the id certkeep answered",
});

export const SidParams = Type.Object({ sid: Sid });
export const NameParams = Type.Object({ sid: Sid, name: CertificateName });
export const NameQuery = Type.Object({ name: CertificateName });

export const ValidationToken = Type.Object({
  tokenName: Type.String({ description: 'DNS: the TXT record name relative to rootDomain; HTTP: the file name under /.well-known/acme-challenge/' }),
  tokenValue: Type.String({ description: 'DNS: the TXT value; HTTP: the file content' }),
  challengeType: Type.String({ description: 'DNS or HTTP' }),
  domain: Type.String(),
});

export const Order = Type.Object({
  status: Type.String({ description: 'pending, ready, processing, valid or invalid' }),
  validationTokens: Type.Array(ValidationToken),
  challenges: Type.Array(Type.Object({ challengeType: Type.String(), status: Type.String(), token: Type.String() })),
  orderUri: Nullable(Type.String()),
  certificateUri: Nullable(Type.String()),
});

export const DOWNLOAD_FIELDS = {
  pemUrl: 'pem',
  pfxUrl: 'pfx',
  cerUrl: 'cer',
  crtUrl: 'crt',
  txtUrl: 'txt',
  keyUrl: 'key',
  keyTxtUrl: 'key-txt',
  certCrtUrl: 'cert-crt',
  cabundleCrtUrl: 'cabundle-crt',
  fullchainCrtUrl: 'fullchain-crt',
} as const;

const Url = Nullable(Type.String());
const DownloadUrls = Type.Object(
  {
    pemUrl: Url,
    pfxUrl: Url,
    cerUrl: Url,
    crtUrl: Url,
    txtUrl: Url,
    keyUrl: Url,
    keyTxtUrl: Url,
    certCrtUrl: Url,
    cabundleCrtUrl: Url,
    fullchainCrtUrl: Url,
  } satisfies Record<keyof typeof DOWNLOAD_FIELDS, TSchema>,
  { description: 'signed links to certkeep, valid 7 days, no API key needed; key and PFX links only for write-scoped keys' },
);

export const Certificate = Type.Object({
  certificateName: Type.String(),
  rootDomain: Type.String(),
  challengeType: Type.String(),
  email: Nullable(Type.String()),
  password: Nullable(Type.String({ description: 'protects the PFX; shown to write-scoped keys only' })),
  target: Type.String(),
  isSAN: Type.Boolean(),
  orderUri: Nullable(Type.String()),
  subscriptionId: Type.Integer({ description: "the subscription's number (an int, as the vendor's clients read it); paths take it or the subscription id" }),
  tokens: Type.Array(ValidationToken),
  pfxString: Nullable(Type.String({ description: 'base64 PKCS#12, protected by password; write-scoped keys only' })),
  issueDate: Type.Optional(Type.String({ format: 'date-time', description: "the current version's notBefore; left out before the first issuance (never null)" })),
  expiryDate: Type.Optional(Type.String({ format: 'date-time', description: "the current version's notAfter; left out before the first issuance (never null)" })),
  id: Type.Integer({ description: "the certificate's number (an int); paths and schedule/renew take it where a certificate name goes" }),
  certificateDownloadUrl: Nullable(DownloadUrls),
});

export const CertificateInfo = Type.Object({
  certificateName: Type.String(),
  issueDate: Type.Optional(Type.String({ format: 'date-time', description: 'left out before the first issuance' })),
  expiryDate: Type.Optional(Type.String({ format: 'date-time', description: 'left out before the first issuance' })),
});

const OPEN = { additionalProperties: true };

/** Gen 3's Certificate object as a request (order/create). */
export const CertificateRequest = Type.Object(
  {
    certificateName: CertificateName,
    rootDomain: Text(253),
    challengeType: Text(20, 'dns or http, any case'),
    email: Optional(Text(254)),
    password: Optional(Text(200)),
    target: Optional(Text(100, 'Stand Alone (any case)')),
    isSAN: Optional(Type.Boolean()),
    orderUri: Optional(Text(2000)),
  },
  OPEN,
);

/** Gen 3's Certificate object as schedule/create wants it: the orderUri of order/create. */
export const ScheduleRequest = Type.Object(
  {
    orderUri: Text(2000),
    certificateName: Optional(CertificateName),
    rootDomain: Optional(Text(253)),
    challengeType: Optional(Text(20)),
    email: Optional(Text(254)),
    password: Optional(Text(200)),
    target: Optional(Text(100)),
    isSAN: Optional(Type.Boolean()),
  },
  OPEN,
);

/** Gen 3's Certificate object as the vendor's SDK sends it to schedule/renew: the certificate by name or id. */
export const ScheduleRenewRequest = Type.Object(
  {
    certificateName: Optional(CertificateName),
    id: Optional(
      Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: '^[1-9][0-9]{0,9}$' })], { description: 'the certificate id certkeep answered, when certificateName is not sent' }),
    ),
    challengeType: Optional(Text(20)),
    password: Optional(Text(200, 'protects the PFX from now on')),
    target: Optional(Text(100)),
  },
  OPEN,
);

export const Gen1CreateRequest = Type.Object(
  {
    hostName: Text(253, 'the name the certificate is for: rootDomain, a name under it, or *.rootDomain'),
    rootDomain: Text(253),
    email: Optional(Text(254)),
    challengeType: Text(20, 'DNS or HTTP, any case'),
    isSAN: Optional(Type.Boolean()),
  },
  OPEN,
);

export const Gen1OrderRequest = Type.Object(
  { orderUri: Text(2000), challengeType: Optional(Text(20)), rootDomain: Optional(Text(253)) },
  OPEN,
);

export const CsrInfo = Type.Object(
  {
    countryName: Optional(Text(200)),
    locality: Optional(Text(200)),
    state: Optional(Text(200)),
    organization: Optional(Text(200)),
    organizationUnit: Optional(Text(200)),
  },
  OPEN,
);

export const Gen1FinalizeRequest = Type.Object(
  {
    orderUri: Text(2000),
    hostName: Optional(Text(253)),
    rootDomain: Optional(Text(253)),
    challengeType: Optional(Text(20)),
    email: Optional(Text(254)),
    password: Optional(Text(200)),
    csrInfo: Optional(CsrInfo),
  },
  OPEN,
);

export const FinalizeQuery = Type.Object({ orderuri: Type.String({ minLength: 1, maxLength: 2000, description: 'the orderUri of the order to finalize' }) });
