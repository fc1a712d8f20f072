// Types of simulator.js (plain JavaScript, shared with scripts/soak.js).
import type * as Syncwire from "../../../src/index.js";
import type { ServerStores } from "../../../src/session/stores.js";

/** The network's faults, each a probability per unit (a frame or a BATCH) unless named otherwise. */
export interface Weather {
  readonly loss: number;
  readonly dup: number;
  readonly reorder: number;
  /** After a unit, the link is reset with this probability. */
  readonly resets: number;
  /** Every link is also reset 0.5–1.5 × this long after it opened (0: not). */
  readonly resetEveryMs?: number;
}

export const T0: number;
export const CI_WEATHER: Weather;
export const CALM: Weather;
export function prng(seed: number): () => number;

/** What a seed stands for at CI scale (`SIM_SEED` replays it). */
export interface Scenario {
  readonly seed: number;
  /** Devices per user (users are u0, u1, …). */
  readonly devices: readonly number[];
  readonly messages: number;
  readonly uploads: number;
}
export function scenarioFromSeed(seed: number): Scenario;

export interface SimulationOptions {
  readonly seed: number;
  readonly devices?: readonly number[];
  /** Text messages the applications send (media messages for finished uploads come on top). */
  readonly messages?: number;
  readonly uploads?: number;
  /** Conversations per pair of users. */
  readonly topics?: number;
  /** Share of messages a device sends to its own user (notes to self). */
  readonly selfShare?: number;
  /** Share of failed messages the application resends (during the bad weather). */
  readonly resendShare?: number;
  readonly weather?: Weather;
  /** Link latency range, ms. */
  readonly latencyMs?: readonly [number, number];
  /** Mean gap between one device's actions, ms. */
  readonly sendGapMs?: number;
  /** Simulated time the applications may take before the network heals. */
  readonly maxSimMs?: number;
  /** Simulated time a healed network may take to converge. */
  readonly healMs?: number;
  readonly client?: Partial<Syncwire.ClientEngineOptions>;
  readonly server?: Partial<Syncwire.ServerEngineOptions>;
  readonly stores?: Syncwire.MemoryStoresOptions;
  /** Wraps the stores the server gets (to prove the checks catch a broken server). */
  readonly wrapStores?: (stores: ServerStores) => ServerStores;
  /** Called about once per simulated second. */
  readonly onProgress?: (progress: { phase: "weather" | "heal"; sent: number; acked: number; simMs: number; wallMs: number }) => void;
  /** Called with a line per frame delivered, link and event (for replaying a failure). */
  readonly trace?: (line: string) => void;
}

export interface SimulationReport {
  readonly seed: number;
  readonly devices: number;
  readonly users: number;
  /** Messages the applications sent. */
  readonly sent: number;
  /** … acknowledged in the end. */
  readonly acked: number;
  /** … reported failed in the end (never acknowledged). */
  readonly failed: number;
  /** … neither (always a violation). */
  readonly pending: number;
  /** Failed messages the server had stored anyway (delivered normally). */
  readonly storedFailed: number;
  /** Stored messages that reached every device of their users, once. */
  readonly delivered: number;
  /** `message` events over all devices. */
  readonly deliveries: number;
  /** Messages stored twice in a log, or handed to a device twice. */
  readonly duplicates: number;
  /** Messages acknowledged (or stored) but not delivered everywhere, and messages never resolved. */
  readonly lost: number;
  readonly uploads: { readonly started: number; readonly completed: number; readonly failed: number };
  readonly converged: boolean;
  readonly simMs: number;
  /** Wall-clock time of the run. */
  readonly ms: number;
  readonly stats: {
    readonly frames: number;
    readonly dropped: number;
    readonly duplicated: number;
    readonly reordered: number;
    readonly resets: number;
    readonly halfOpen: number;
    readonly links: number;
    readonly opens: number;
    readonly linkDead: number;
    readonly disconnects: Record<string, number>;
    readonly retries: number;
    readonly queueFull: number;
    readonly resends: number;
    readonly explainedProtocolErrors: number;
    readonly replaced: number;
    readonly steps: number;
    readonly maxConnections: number;
  };
  readonly violationCount: number;
  /** The first violations, one line each (time, what). */
  readonly violations: readonly string[];
}

export function simulate(lib: typeof Syncwire, options: SimulationOptions): Promise<SimulationReport>;
