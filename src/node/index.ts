/**
 * `syncwire/node`: the Node-only edge (streams and sockets). Everything else is in the root entry,
 * which runs anywhere.
 * @packageDocumentation
 */
export { FrameDecoderTransform } from "./decoder-transform.js";
export { FrameWriter, type FrameSink, type FrameWriterOptions } from "./frame-writer.js";
export { createFaultProxy, type FaultProxy, type FaultProxyOptions } from "./fault-proxy.js";
export type { DirectionStats, FaultProxyEvent, FaultProxyStats, FrameLike, FrameSplitter } from "./fault-events.js";
export type { Direction, FaultSettings, Faults } from "./fault-settings.js";
