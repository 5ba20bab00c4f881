// ACME Renewal Information (RFC 9773 §4.2): the CA's suggested renewal window.
import { AcmeProtocolError } from './errors.ts';
import type { HttpResponse } from './http.ts';
import { retryAfterMs } from './retry-after.ts';
import { jsonBody } from './transport.ts';
import type { AcmeRenewalInfo } from './types.ts';

interface RenewalInfoJson {
  suggestedWindow?: { start?: string; end?: string };
  explanationURL?: string;
}

export function renewalInfoUrl(base: string, certId: string): string {
  return `${base.replace(/\/+$/, '')}/${encodeURIComponent(certId)}`;
}

export function parseRenewalInfo(res: HttpResponse, url: string, now: number): AcmeRenewalInfo {
  const operation = 'get renewal info';
  const doc = jsonBody<RenewalInfoJson>(res, operation, url);
  const start = new Date(doc.suggestedWindow?.start ?? Number.NaN);
  const end = new Date(doc.suggestedWindow?.end ?? Number.NaN);
  if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()) || end < start) {
    throw new AcmeProtocolError(
      'the renewal info has no valid suggestedWindow (start <= end)',
      operation,
      url,
    );
  }
  const info: AcmeRenewalInfo = { suggestedWindow: { start, end } };
  if (typeof doc.explanationURL === 'string') info.explanationURL = doc.explanationURL;
  const wait = retryAfterMs(res.headers['retry-after'], now);
  if (wait !== undefined) info.retryAfter = new Date(now + wait);
  return info;
}
