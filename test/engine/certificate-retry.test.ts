// When a certificate is due again after its order failed (issuance.ts,
// certificateRetry): the planner's backoff, except for an order the CA lost
// after an outage, which is replaced at the scheduler's next tick.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AcmeNetworkError, AcmeNotFoundError, AcmeRateLimitError } from '../../src/acme/index.ts';
import { certificateRetry } from '../../src/engine/issuance.ts';

const NOW = Date.UTC(2030, 0, 1);
const MINUTE = 60_000;
const IN_30_DAYS = NOW + 30 * 86_400_000;
const lost = new AcmeNotFoundError('get authorization', 'https://ca.test/authz/1');
const unreachable = new AcmeNetworkError('get order failed: ECONNREFUSED', 'get order', 'https://ca.test/order/1', 'ECONNREFUSED');

test('an order the CA lost after it had failed on the network: due at once, whatever the failures so far', () => {
  assert.equal(certificateRetry(NOW, 12, IN_30_DAYS, lost, 11), NOW);
  assert.equal(certificateRetry(NOW, 2, IN_30_DAYS, lost, 1), NOW);
});

test('an order lost at its first failure: the usual backoff, so a CA that keeps losing orders is not asked every tick', () => {
  const at = certificateRetry(NOW, 1, IN_30_DAYS, lost, 0);
  assert.ok(at >= NOW + MINUTE / 2 && at <= NOW + MINUTE, `${(at - NOW) / 1000} s`);
});

test('other failures keep the backoff, which grows with the failures', () => {
  const early = certificateRetry(NOW, 1, IN_30_DAYS, unreachable, 0, () => 1);
  const later = certificateRetry(NOW, 6, IN_30_DAYS, unreachable, 5, () => 1);
  assert.equal(early, NOW + MINUTE);
  assert.equal(later, NOW + 32 * MINUTE);
});

test("a rate limit waits for the CA's Retry-After", () => {
  const problem = { type: 'urn:ietf:params:acme:error:rateLimited', detail: 'too many' };
  const until = NOW + 3 * 3_600_000;
  const limited = new AcmeRateLimitError(problem, 429, 'new order', 'https://ca.test/new-order', new Date(until), NOW);
  assert.equal(certificateRetry(NOW, 1, IN_30_DAYS, limited, 0), until);
});
