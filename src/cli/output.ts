/**
 * `dump`'s output: events through a printer into a buffer, written to stdout in pieces of about 64 KiB
 * (and whenever the command is about to wait for input), paced by stdout's backpressure. On Linux a pipe
 * to a slow reader is asynchronous: without the pacing a large dump would pile up in memory.
 */
import type { DumpEvent } from "./model.js";

/** The part of a Node stdout the output uses. */
export interface Stdout {
  write(text: string | Uint8Array): unknown;
  readonly isTTY?: boolean;
  /** A Node stream's backpressure signal: when true, wait for "drain" before writing more. */
  readonly writableNeedDrain?: boolean;
  once?(event: "drain", listener: () => void): unknown;
}

/** Bytes of text gathered before they are written. */
const FLUSH_AT = 64 * 1024;

/**
 * Printed events on their way to stdout: `dump`'s events, or (for `syncwire proxy`) those and its own
 * link records, through one printer.
 */
export class Output<E extends { readonly type: string } = DumpEvent> {
  readonly #stdout: Stdout;
  readonly #printer: (event: E) => string;
  #parts: string[] = [];
  #size = 0;
  #errors = 0;

  constructor(stdout: Stdout, printer: (event: E) => string) {
    this.#stdout = stdout;
    this.#printer = printer;
  }

  /** How many error events were emitted (the exit status is 1 when there were any). */
  get errors(): number {
    return this.#errors;
  }

  emit(event: E): void {
    if (event.type === "error") this.#errors++;
    const text = this.#printer(event);
    if (text === "") return;
    this.#parts.push(text);
    this.#size += text.length;
    if (this.#size >= FLUSH_AT) this.flush();
  }

  /** Writes what is gathered. */
  flush(): void {
    if (this.#size === 0) return;
    this.#stdout.write(this.#parts.join(""));
    this.#parts = [];
    this.#size = 0;
  }

  /** A promise while stdout is full, else `undefined`. */
  ready(): Promise<void> | undefined {
    const out = this.#stdout;
    if (out.writableNeedDrain !== true || out.once === undefined) return undefined;
    return new Promise<void>((resolve) => out.once!("drain", resolve));
  }

  /** Writes what is gathered, then waits while stdout is full. */
  async drained(): Promise<void> {
    this.flush();
    await this.ready();
  }
}
