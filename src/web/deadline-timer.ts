/**
 * One timer, re-armed at an engine's next deadline (`pollTimeout()`): the timer of every adapter loop,
 * client or server. Re-arming at the same deadline keeps the running timer; `undefined` cancels it.
 * Internal to the adapters. Platform-neutral (the global `setTimeout`).
 */
export class DeadlineTimer {
  readonly #fire: () => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #due: number | undefined;

  /** @param fire called once the deadline has passed (the timer is then disarmed). */
  constructor(fire: () => void) {
    this.#fire = fire;
  }

  /** Fires at `due` (ms on the clock of `now`), or never if undefined. Never throws. */
  arm(due: number | undefined, now: number): void {
    if (due === this.#due) return;
    this.cancel();
    if (due === undefined) return;
    this.#due = due;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#due = undefined;
        this.#fire();
      },
      Math.max(0, due - now),
    );
  }

  /** Disarms. Idempotent. */
  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#due = undefined;
  }
}
