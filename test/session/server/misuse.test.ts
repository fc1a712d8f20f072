// Every way a caller can misuse the server engine or a link throws TypeError, RangeError or SessionError
// (with its code), never a FrameError or BodyError (the peer's errors); peer input never throws.
import { describe, expect, test } from "vitest";
import { BodyError, FrameError, SessionError } from "../../../src/index.js";
import { makeEngine, RawClient, T0, text } from "./support.js";

describe("server misuse", () => {
  test("engine, link before WELCOME, open link, closed link: each misuse names its class", async () => {
    const { engine } = makeEngine();
    const fresh = new RawClient(engine);
    const open = new RawClient(engine);
    await open.connect();
    const closed = new RawClient(engine);
    await closed.connect({ clientId: "other" });
    closed.link.linkClosed(closed.now);
    const cases: [string, () => unknown, typeof TypeError | typeof RangeError | typeof SessionError, string?][] = [
      ["accept() with a clock that is not finite", () => engine.accept(Number.NaN, { wake: () => {} }), RangeError],
      ["accept() without wake", () => engine.accept(T0, { wake: 5 } as never), TypeError],
      ["shutdown() with a clock that is not finite", () => engine.shutdown(Number.NaN), RangeError],
      ["expireUploads() with a clock that is not finite", () => engine.expireUploads(Number.NaN), RangeError],
      ["sendApplicationFrame() before WELCOME", () => fresh.link.sendApplicationFrame(1000, text("x")), TypeError],
      ["endOfInput() with a clock that is not finite", () => fresh.link.endOfInput(Number.NaN), RangeError],
      ["handleTimeout() with a clock that is not finite", () => open.link.handleTimeout(Number.NaN), RangeError],
      ["linkClosed() with a clock that is not finite", () => open.link.linkClosed(Number.NaN), RangeError],
      ["disconnect() with a code that is not a u32", () => open.link.disconnect(-1 as never), RangeError],
      ["disconnect() with a retry_after_ms that is not a u32", () => open.link.disconnect(1, "", 2 ** 32), RangeError],
      ["sendApplicationFrame() with a syncwire op", () => open.link.sendApplicationFrame(5, text("x")), RangeError],
      ["sendApplicationFrame() of a frame over the client's limit", () => open.link.sendApplicationFrame(1000, new Uint8Array(1_048_576)), RangeError],
      ["sendApplicationFrame() on a closed link", () => closed.link.sendApplicationFrame(1000, text("x")), SessionError, "CLOSED"],
    ];
    for (const [name, run, type, code] of cases) {
      let error: unknown;
      try {
        run();
      } catch (e) {
        error = e;
      }
      expect(error, name).toBeInstanceOf(type);
      expect(error, name).not.toBeInstanceOf(FrameError);
      expect(error, name).not.toBeInstanceOf(BodyError);
      if (code !== undefined) expect((error as SessionError).code, name).toBe(code);
    }
    // Misuse changed nothing: the open link still answers.
    expect(open.link.state).toBe("open");
    expect(fresh.link.state).toBe("handshaking");
    expect((await open.exchange(open.heartbeatFrame())).length).toBe(1);
  });
});
