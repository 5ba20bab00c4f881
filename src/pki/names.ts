// Names a certificate is for: DNS names (RFC 1123 host names, with a
// wildcard only as the whole leftmost label, RFC 8555 §7.1.3) and IP
// addresses (RFC 8738).
import { canonicalIp } from './ip.ts';

export interface Identifier {
  type: 'dns' | 'ip';
  /** dns: lower case, no trailing dot; ip: canonical text (RFC 5952 for IPv6). */
  value: string;
}

const MAX_NAME_LENGTH = 253;
const MAX_LABEL_LENGTH = 63;
const LABEL_CHARACTERS = /^[a-z0-9-]+$/i;

/** Why `name` is not a usable DNS name, or null when it is. A single trailing dot is allowed. */
export function validateDnsName(name: string): string | null {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  if (bare === '') return 'the name is empty';
  if (bare.length > MAX_NAME_LENGTH) {
    return `the name is ${bare.length} characters long; at most ${MAX_NAME_LENGTH} are allowed`;
  }
  const labels = bare.split('.');
  if (labels[0] === '*' && labels.length === 1)
    return 'a wildcard needs a domain after it, as in *.example.com';
  for (const [index, label] of labels.entries()) {
    const reason = labelProblem(label, index === 0 && labels.length > 1);
    if (reason) return reason;
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1])) {
    return 'the last label is all digits; an IP address is not a DNS name';
  }
  return null;
}

function labelProblem(label: string, mayBeWildcard: boolean): string | null {
  if (label === '') return 'the name has an empty label (a leading dot or two dots in a row)';
  if (label === '*' && mayBeWildcard) return null;
  if (label.includes('*'))
    return `"${label}": a wildcard "*" is only allowed as the whole leftmost label, as in *.example.com`;
  if (label.length > MAX_LABEL_LENGTH) {
    return `the label "${label}" is ${label.length} characters long; at most ${MAX_LABEL_LENGTH} are allowed`;
  }
  if (!LABEL_CHARACTERS.test(label)) return labelCharacterProblem(label);
  if (label.startsWith('-') || label.endsWith('-'))
    return `the label "${label}" starts or ends with a hyphen`;
  return null;
}

function labelCharacterProblem(label: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range is the point
  if (/[^\x00-\x7f]/.test(label)) {
    return `the label "${label}" has non-ASCII characters; use its IDNA form (xn--...) instead`;
  }
  const bad = [...label].find((c) => !/[a-z0-9-]/i.test(c));
  return `the label "${label}" contains ${JSON.stringify(bad)}; only letters, digits and hyphens are allowed`;
}

/**
 * Classifies user-given names: IPv4/IPv6 literals (IPv6 also in [brackets])
 * become `ip` identifiers in canonical form, anything else a `dns` identifier,
 * lower-cased, trimmed, trailing dot removed. Duplicates are dropped, order kept.
 * Nothing is validated here: use validateDnsName on the dns values.
 */
export function identifiersFromNames(names: string[]): Identifier[] {
  const seen = new Set<string>();
  const identifiers: Identifier[] = [];
  for (const name of names) {
    const identifier = identifierFromName(name.trim());
    const key = `${identifier.type}:${identifier.value}`;
    if (seen.has(key)) continue;
    seen.add(key);
    identifiers.push(identifier);
  }
  return identifiers;
}

function identifierFromName(name: string): Identifier {
  const unbracketed = name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name;
  const ip = canonicalIp(unbracketed);
  if (ip) return { type: 'ip', value: ip };
  return { type: 'dns', value: normalizeName(name) };
}

/**
 * The one form of a name, for DNS names and the names certificates are kept
 * under alike: trimmed, lower case (DNS names compare case-insensitively,
 * RFC 4343), without the trailing dot of a fully qualified name. Every command
 * and API route looks names up in this form, and stores them in it.
 */
export function normalizeName(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}
