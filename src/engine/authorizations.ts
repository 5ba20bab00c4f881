// Authorization hygiene (RFC 8555 §7.5.2): an order that ends without a
// certificate leaves pending authorizations at the CA, which count against its
// limits (Let's Encrypt caps pending authorizations per account). certkeep
// deactivates them, as lego and node-acme-client do — best effort: the order's
// own error is what the caller hears, whatever happens here.
import type { AcmeClient } from '../acme/index.ts';

/** Deactivates those of `urls` the CA still has pending; resolves with how many it deactivated, never rejects. */
export async function deactivatePending(client: AcmeClient, urls: string[]): Promise<number> {
  const results = await Promise.allSettled(
    [...new Set(urls)].map(async (url) => {
      const authorization = await client.getAuthorization(url);
      if (authorization.status !== 'pending') return false;
      await client.deactivateAuthorization(url);
      return true;
    }),
  );
  return results.filter((result) => result.status === 'fulfilled' && result.value).length;
}
