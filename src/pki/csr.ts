// Creating a PKCS #10 certificate signing request (RFC 2986) for ACME
// finalize (RFC 8555 §7.4): the names go into subjectAltName; the first DNS
// name is also the CN when it fits (ub-common-name is 64, RFC 5280 A.1).
import type { KeyObject } from 'node:crypto';
import { bitString, contextTag, objectIdentifier, sequence, setOf, smallInteger } from './der-write.ts';
import {
  type CsrSubject,
  encodeSubject,
  MAX_COMMON_NAME_LENGTH,
  validateCsrSubject,
} from './distinguished-name.ts';
import { PkiInputError } from './errors.ts';
import { subjectAltNameExtension } from './extensions.ts';
import { ipToBytes } from './ip.ts';
import { type Identifier, validateDnsName } from './names.ts';
import { subjectPublicKeyInfo } from './public-key.ts';
import { signWith } from './signatures.ts';

const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14'; // PKCS #9, RFC 2985 §5.4.2

/** A DER CSR for `identifiers`, signed with `key`. Throws PkiInputError naming a bad name or subject field. */
export async function createCsr(
  key: KeyObject,
  identifiers: Identifier[],
  subject: CsrSubject = {},
): Promise<Uint8Array> {
  if (key.type !== 'private')
    throw new PkiInputError(`a CSR is signed with a private key, not a ${key.type} key`);
  const names = normalized(identifiers);
  const problem = validateCsrSubject(subject);
  if (problem) throw new PkiInputError(`CSR subject ${problem.field} ${problem.reason}`);

  const commonName = names.find(
    (id) => id.type === 'dns' && id.value.length <= MAX_COMMON_NAME_LENGTH,
  )?.value;
  const name = encodeSubject(subject, commonName);
  const subjectIsEmpty = name.length === 2; // 30 00: an empty SEQUENCE
  const info = sequence(
    smallInteger(0),
    name,
    subjectPublicKeyInfo(key),
    contextTag(0, extensionRequest(subjectAltNameExtension(names, subjectIsEmpty)), true),
  );
  const { algorithm, signature } = await signWith(key, info);
  return sequence(info, algorithm, bitString(signature));
}

function extensionRequest(...extensions: Uint8Array[]): Uint8Array {
  return sequence(objectIdentifier(OID_EXTENSION_REQUEST), setOf(sequence(...extensions)));
}

/** Lower-cased DNS names without a trailing dot; throws on a name that cannot be in a certificate. */
function normalized(identifiers: Identifier[]): Identifier[] {
  if (identifiers.length === 0) throw new PkiInputError('a CSR needs at least one DNS name or IP address');
  return identifiers.map((id) => {
    if (id.type === 'ip' && ipToBytes(id.value)) return id;
    if (id.type !== 'dns')
      throw new PkiInputError(
        `invalid identifier ${JSON.stringify(id)}: expected an IP address literal or a DNS name`,
      );
    const reason = validateDnsName(id.value);
    if (reason) throw new PkiInputError(`invalid DNS name ${JSON.stringify(id.value)}: ${reason}`);
    return { type: 'dns', value: id.value.toLowerCase().replace(/\.$/, '') };
  });
}
