// The test rig's servers listen on loopback, which tenants' URLs may not reach
// unless the operator allows it: the tests allow it as an operator would
// (`certkeep serve --allow-outbound 127.0.0.0/8`).
import type { EngineContext } from '../../src/engine/context.ts';
import { TenantLimits } from '../../src/outbound/tenant-limits.ts';

export const LOOPBACK_RANGES = ['127.0.0.0/8', '::1/128'];

/** The flags for `certkeep serve`. */
export const ALLOW_LOOPBACK_ARGS = LOOPBACK_RANGES.flatMap((range) => ['--allow-outbound', range]);

/** Sets the context's tenant limits to allow loopback (and nothing else that is not public); returns the context. */
export function allowLoopback<T extends EngineContext>(ctx: T): T {
  ctx.limits = new TenantLimits({ allowOutbound: LOOPBACK_RANGES });
  return ctx;
}
