import { type Clock, systemClock } from '../../src/time/clock.ts';

/**
 * A clock the test moves by hand. Sleeps still take real time, so a loop that
 * sleeps between rounds (a started dispatcher) does not spin.
 */
export function manualClock(
  start = Date.parse('2030-01-01T00:00:00Z'),
): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    sleep: systemClock.sleep,
    advance: (ms) => {
      now += ms;
    },
  };
}
