// Link headers (RFC 8288) as ACME uses them: `<url>;rel="alternate"`, `rel="up"`, `rel="terms-of-service"`.

/** URLs of every link with relation `rel`, resolved against the request URL. */
export function linkUrls(header: string | string[] | undefined, rel: string, base: string): string[] {
  if (header === undefined) return [];
  const values = Array.isArray(header) ? header : [header];
  const urls: string[] = [];
  for (const value of values) {
    for (const match of value.matchAll(/<([^>]*)>([^,<]*)/g)) {
      const params = match[2];
      const rels = /;\s*rel="?([^";]+)"?/i.exec(params)?.[1]?.split(/\s+/) ?? [];
      if (rels.includes(rel)) urls.push(new URL(match[1], base).href);
    }
  }
  return urls;
}
