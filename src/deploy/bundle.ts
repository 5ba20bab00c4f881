// A version bundle is checked before anything on the host is touched: the leaf must carry the serial
// the verification will look for, and the key must belong to it.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { UsageError } from '../errors.ts';
import type { DeployFormat, VersionBundle } from './types.ts';

export function checkBundle(bundle: VersionBundle, format: DeployFormat): void {
  requireText(bundle.certificateName, 'certificateName');
  requireText(bundle.versionId, 'versionId');
  if (!Array.isArray(bundle.names) || bundle.names.length === 0 || bundle.names.some((n) => !n)) {
    throw new UsageError('bundle.names: give the names on the certificate (at least one)', 'bundle.names');
  }
  if (!/^[0-9a-f:]+$/i.test(bundle.serial ?? '')) {
    throw new UsageError(
      `bundle.serial: "${bundle.serial}" must be the leaf's serial in hex`,
      'bundle.serial',
    );
  }
  const leaf = parseLeaf(bundle.certPem);
  if (normalSerial(leaf.serialNumber) !== normalSerial(bundle.serial)) {
    throw new UsageError(
      `bundle.serial: ${bundle.serial} is not the serial of bundle.certPem (${normalSerial(leaf.serialNumber)})`,
      'bundle.serial',
    );
  }
  if (!leaf.checkPrivateKey(parseKey(bundle.keyPem))) {
    throw new UsageError('bundle.keyPem: the key does not belong to bundle.certPem', 'bundle.keyPem');
  }
  if (!bundle.fullchainPem.startsWith(bundle.certPem.trim())) {
    throw new UsageError('bundle.fullchainPem: must begin with bundle.certPem', 'bundle.fullchainPem');
  }
  if (format === 'pfx' && !(bundle.pfx instanceof Uint8Array && bundle.pfx.length > 0)) {
    throw new UsageError(
      'bundle.pfx: the pfx format needs the PKCS#12 bytes, made by the caller',
      'bundle.pfx',
    );
  }
}

/** Hex serial without colons or leading zeros, lower case: the form serials are compared in. */
export function normalSerial(serial: string): string {
  return serial
    .replaceAll(':', '')
    .toLowerCase()
    .replace(/^0+(?=.)/, '');
}

function requireText(value: string, field: string): void {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new UsageError(`bundle.${field}: must not be empty`, `bundle.${field}`);
  }
}

function parseLeaf(pem: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw new UsageError('bundle.certPem: not a PEM certificate', 'bundle.certPem');
  }
}

function parseKey(pem: string) {
  try {
    return createPrivateKey(pem);
  } catch {
    throw new UsageError(
      'bundle.keyPem: not a PEM private key (unencrypted PKCS#8, PKCS#1 or SEC1)',
      'bundle.keyPem',
    );
  }
}
