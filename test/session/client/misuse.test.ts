// Every way a caller can misuse the client engine throws TypeError, RangeError or SessionError (with its
// code) before anything changes — never a FrameError or BodyError, which are the peer's errors. Sending
// before connect() is not misuse: the message waits for WELCOME (§11.2).
import { describe, expect, test } from "vitest";
import { BodyError, FrameError, Op } from "../../../src/index.js";
import { SessionError } from "../../../src/session/index.js";
import { Harness, reply, text } from "./support.js";

type Case = readonly [name: string, run: (h: Harness) => unknown, type: typeof TypeError | typeof RangeError | typeof SessionError, code?: string];

const open = (h: Harness) => h.open({ limits: { maxFrameSize: 1000 } });
const closed = (h: Harness) => h.engine.close();

const cases: readonly (readonly [setup: (h: Harness) => void, Case])[] = [
  [open, ["send() of a message larger than the server's max_frame_size", (h) => h.engine.send({ conversationId: "c", content: new Uint8Array(1000) }, h.now), RangeError]],
  [open, ["sendApplication() of a frame larger than the server's max_frame_size", (h) => h.engine.sendApplication(1000, new Uint8Array(1000), h.now), RangeError]],
  [open, ["sendApplication() with a syncwire op", (h) => h.engine.sendApplication(Op.SEND, text("x"), h.now), RangeError]],
  [open, ["sendApplication() with a body that is not bytes", (h) => h.engine.sendApplication(1000, "x" as never, h.now), TypeError]],
  [open, ["resend() of an id that is not a bigint", (h) => h.engine.resend(5 as never, h.now), TypeError]],
  [open, ["resend() of a message that is not failed", (h) => h.engine.resend(5n, h.now), SessionError, "NOT_FAILED"]],
  [open, ["discard() of an id that is not a bigint", (h) => h.engine.discard("5" as never), TypeError]],
  [open, ["disconnect() with a code that is not a u32", (h) => h.engine.disconnect(h.now, 2 ** 33), RangeError]],
  [open, ["connect() with a token that is not a string", (h) => h.engine.connect(h.now, { token: 5 as never }), TypeError]],
  [open, ["upload() of bytes that are not a Uint8Array", (h) => h.engine.upload([1, 2] as never, "x/y", h.now), TypeError]],
  [open, ["upload() with a content type that is not a string", (h) => h.engine.upload(text("x"), 5 as never, h.now), TypeError]],
  [open, ["handleTimeout() with a clock that is not a number", (h) => h.engine.handleTimeout(Number.NaN), TypeError]],
  [open, ["pollTransmit() with a clock that is not finite", (h) => h.engine.pollTransmit(Number.POSITIVE_INFINITY), TypeError]],
  [open, ["linkClosed() with a clock that is not a number", (h) => h.engine.linkClosed("now" as never), TypeError]],
  [closed, ["send() on a closed engine", (h) => h.engine.send({ conversationId: "c" }, h.now), SessionError, "CLOSED"]],
  [closed, ["reconnected() on a closed engine", (h) => h.engine.reconnected(h.now), SessionError, "CLOSED"]],
  [closed, ["upload() on a closed engine", (h) => h.engine.upload(text("x"), "x/y", h.now), SessionError, "CLOSED"]],
];

describe("client misuse", () => {
  test.each(cases.map(([setup, c]) => [c[0], setup, c] as const))("%s", (_name, setup, [, run, type, code]) => {
    const h = new Harness();
    setup(h);
    h.flush();
    h.events();
    const pending = h.engine.pendingSends;
    let error: unknown;
    try {
      run(h);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(type);
    expect(error).not.toBeInstanceOf(FrameError);
    expect(error).not.toBeInstanceOf(BodyError);
    if (code !== undefined) expect((error as SessionError).code).toBe(code);
    // Nothing changed: nothing queued, nothing to send, no event.
    expect(h.engine.pendingSends).toBe(pending);
    expect(h.flush()).toEqual([]);
    expect(h.events()).toEqual([]);
  });

  test("sending before connect() is not misuse: the message waits and goes out after WELCOME", () => {
    const h = new Harness();
    const id = h.engine.send({ conversationId: "c", content: text("early") }, h.now);
    expect(h.engine.state).toBe("idle");
    expect(h.flush()).toEqual([]);
    h.engine.connect(h.now);
    const [hello] = h.flush();
    expect(hello!.op).toBe(Op.HELLO);
    h.deliver(reply.welcome(hello!.seq));
    const sent = h.flush().filter((f) => f.op === Op.SEND);
    expect(sent.map((f) => f.message.clientMsgId)).toEqual([id]);
  });
});
