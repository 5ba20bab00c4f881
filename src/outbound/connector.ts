// undici connections that go only where an OutboundPolicy allows: the name is
// resolved and checked when each connection is opened, and the connection goes
// to the address that was checked (not to whatever the name says a moment later).
import { Agent, buildConnector } from 'undici';
import type { OutboundPolicy } from './policy.ts';

/** Wraps a connector (TLS options and all) so that each new connection is checked first. */
export function guardConnector(policy: OutboundPolicy, base: buildConnector.connector): buildConnector.connector {
  return (options, callback) => {
    // The TLS server name still comes from the URL's host (options.host), so certificates are checked against the name.
    policy.resolve(options.hostname).then(
      ({ address }) => base({ ...options, hostname: address }, callback),
      (error: Error) => callback(error, null),
    );
  };
}

/** An undici Agent whose connections the policy checks; `connectTimeoutMs` bounds the TCP and TLS handshake. */
export function guardedAgent(policy: OutboundPolicy, options: { connectTimeoutMs: number; keepAliveTimeoutMs?: number }): Agent {
  return new Agent({
    connect: guardConnector(policy, buildConnector({ timeout: options.connectTimeoutMs })),
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 10_000,
  });
}
