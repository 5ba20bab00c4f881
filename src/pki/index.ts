// The pki library: keys, CSRs, certificate parsing, chains and export formats.
// A leaf library: it imports nothing from other certkeep folders.
export { ariCertId, certificateDer, type ParsedCertificate, parseCertificate } from './certificate.ts';
export { type ExportFiles, pemBundle, splitPemChain } from './chain.ts';
export { createCsr } from './csr.ts';
export { type ParsedCsr, parseCsr } from './csr-parse.ts';
export { type CsrSubject, type SubjectProblem, validateCsrSubject } from './distinguished-name.ts';
export { PkiInputError } from './errors.ts';
export {
  DEFAULT_KEY_TYPE,
  generateKey,
  isKeyType,
  KEY_TYPES,
  type KeyType,
  keyTypeOf,
  privateKeyFromPem,
  privateKeyToPem,
} from './keys.ts';
export { type Identifier, identifiersFromNames, normalizeName, validateDnsName } from './names.ts';
export { sameLeaf, topIssuerName } from './preferred-chain.ts';
export { PKCS12_ITERATIONS, type Pkcs12Options, toPkcs12 } from './pkcs12.ts';
export {
  ACME_TLS_PROTOCOL,
  type ChallengeCertificate,
  createTlsAlpnCertificate,
  identifierFromServerName,
  OID_ACME_IDENTIFIER,
} from './tls-alpn.ts';
