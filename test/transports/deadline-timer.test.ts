// DeadlineTimer: the one timer every adapter loop (client and server) re-arms at its engine's next
// deadline (`pollTimeout()`). Fake timers: it fires once, at the deadline, not before; re-arming at the
// same deadline keeps the running timer; a new deadline replaces it; undefined cancels.
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { DeadlineTimer } from "../../src/web/deadline-timer.js";

beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
afterEach(() => vi.useRealTimers());

describe("DeadlineTimer", () => {
  test("fires once at the deadline given on the caller's clock", () => {
    const fired: number[] = [];
    const timer = new DeadlineTimer(() => fired.push(Date.now()));
    timer.arm(1_000_250, 1_000_000);
    vi.advanceTimersByTime(249);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([1_000_250]);
    vi.advanceTimersByTime(10_000);
    expect(fired).toHaveLength(1);
  });

  test("the same deadline again keeps the running timer (no restart); a new one replaces it", () => {
    let fired = 0;
    const timer = new DeadlineTimer(() => fired++);
    timer.arm(1_000_100, 1_000_000);
    vi.advanceTimersByTime(60);
    timer.arm(1_000_100, 1_000_060); // re-armed by a pump at the same deadline: still due at +100
    vi.advanceTimersByTime(40);
    expect(fired).toBe(1);
    timer.arm(1_000_300, 1_000_100);
    timer.arm(1_000_150, 1_000_100); // an earlier deadline replaces the later one
    vi.advanceTimersByTime(50);
    expect(fired).toBe(2);
    vi.advanceTimersByTime(1000);
    expect(fired).toBe(2);
  });

  test("undefined and cancel() disarm; a deadline already past fires on the next turn", () => {
    let fired = 0;
    const timer = new DeadlineTimer(() => fired++);
    timer.arm(1_000_100, 1_000_000);
    timer.arm(undefined, 1_000_000);
    vi.advanceTimersByTime(1000);
    expect(fired).toBe(0);
    timer.arm(1_002_000, 1_001_000);
    timer.cancel();
    timer.cancel();
    vi.advanceTimersByTime(5000);
    expect(fired).toBe(0);
    timer.arm(0, 1_006_000);
    expect(fired).toBe(0);
    vi.advanceTimersByTime(0);
    expect(fired).toBe(1);
  });
});
