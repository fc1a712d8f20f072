#!/usr/bin/env bash
# Remakes fixtures/pcap/*: a REAL capture (tcpdump on the loopback interface) of a small exchange of
# syncwire frames over TCP, written in 7-byte pieces with Nagle off so every frame spans several TCP
# segments. Frames are built with the repo's own library (from dist/, built here): protobuf bodies with
# encodeBodyFrame (HELLO, a ~300-byte text SEND, WELCOME, ACK, NOTIFY with a SyncKey), empty
# HEARTBEAT / HEARTBEAT_ACK with encodeFrame, so `syncwire dump` shows every body decoded.
#
# Needs (Debian packages): tcpdump (capture), tshark / wireshark-common (editcap, for pcapng), and
# root or CAP_NET_RAW for tcpdump. Node ≥ 20 and the repo's devDependencies (npx tsc).
#   apt-get install tcpdump tshark
#
# Output (see fixtures/pcap/README.md for the expected frames):
#   exchange.pcap       pcap (µs, little-endian), link type Ethernet (tcpdump -i lo)
#   exchange.pcapng     the same packets converted by editcap -F pcapng
#   exchange-any.pcapng tcpdump -i any written as pcapng by editcap: Linux cooked v2 (SLL2) link type
#
# Captures are not byte-for-byte reproducible (timestamps, ports, ISNs): the tests check the
# reassembled streams, which are.
set -euo pipefail
cd "$(dirname "$0")/.."
out=fixtures/pcap
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for tool in tcpdump editcap node; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install tcpdump tshark)" >&2; exit 1; }
done

npx tsc -p tsconfig.build.json

cat > "$tmp/exchange.mjs" <<EOF
// A server on 127.0.0.1:5000 and one on [::1]:5000, plus a decoy on 127.0.0.1:5001; a client talks
// to each. All writes go out in 7-byte pieces, one per macrotask, so each is its own TCP segment.
// Bodies are real protobuf messages built with the library (encodeBodyFrame), as a client and a
// server using syncwire would send them.
import net from "node:net";
import { create } from "$PWD/node_modules/@bufbuild/protobuf/dist/esm/index.js";
import {
  encodeBodyFrame, encodeFrame, Op,
  AckSchema, HelloSchema, MessagePacketSchema, NotifySchema, WelcomeSchema,
} from "$PWD/dist/index.js";

const utf8 = (s) => new TextEncoder().encode(s);
const clientMsgId = 0x0190_1a2b_3c4d_5e6fn;
const TEXT =
  "syncwire capture fixture: a SEND whose MessagePacket carries a text message of about three " +
  "hundred bytes, so that its frame spans dozens of 7-byte TCP segments and the reader must " +
  "reassemble the stream before the decoder sees a whole frame. UTF-8: 你好, привет, 👋. The end.";
const clientFrames = [
  encodeBodyFrame(Op.HELLO, create(HelloSchema, {
    versions: [1], clientId: "cli-demo", token: "t0k3n-demo",
    capabilities: { maxFrameSize: 1048576, batching: true },
  }), { seq: 1 }),
  encodeBodyFrame(Op.SEND, create(MessagePacketSchema, {
    clientMsgId, conversationId: "c2c:u_1024:u_2048", senderId: "u_1024", recipientId: "u_2048",
    kind: 1, content: utf8(TEXT), createdAtMs: 1_732_000_000_123n,
  }), { seq: 2 }),
  encodeFrame({ op: Op.HEARTBEAT, seq: 3 }),
];
const serverFrames = [
  encodeBodyFrame(Op.WELCOME, create(WelcomeSchema, {
    version: 1, sessionId: "s_8d2e", heartbeatIntervalMs: 30000,
    limits: { maxFrameSize: 1048576, maxBatchFrames: 64, maxInFlight: 32 }, serverTimeMs: 1_732_000_000_001n,
  }), { seq: 1 }),
  encodeBodyFrame(Op.ACK, create(AckSchema, { clientMsgId, serverMsgId: 9_000_001n, serverTimeMs: 1_732_000_000_130n }), { seq: 2 }),
  encodeBodyFrame(Op.NOTIFY, create(NotifySchema, { syncKey: { entries: [{ key: 1, version: 620_943_800n }] }, selector: 2 }), { seq: 0 }),
  encodeFrame({ op: Op.HEARTBEAT_ACK, seq: 3 }),
];
// The decoy connection: one HEARTBEAT up, one application frame down.
const decoyClientFrames = [encodeFrame({ op: Op.HEARTBEAT, seq: 1 })];
const decoyServerFrames = [encodeFrame({ op: 1000, seq: 9, body: utf8("decoy") })];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function writeInPieces(socket, frames) {
  socket.setNoDelay(true);
  for (const frame of frames) {
    // encodeBodyFrame may return a view of a pooled slab: copy before the next frame is encoded.
    const bytes = frame.slice();
    for (let at = 0; at < bytes.length; at += 7) {
      socket.write(bytes.subarray(at, at + 7));
      await sleep(2);
    }
  }
}
const totalOf = (frames) => frames.reduce((n, f) => n + f.length, 0);

function serve(host, port, expected, reply) {
  return new Promise((resolve) => {
    const server = net.createServer((socket) => {
      let got = 0;
      socket.on("data", async (d) => {
        got += d.length;
        if (got === expected) {
          await writeInPieces(socket, reply);
          socket.end();
        }
      });
      socket.on("close", () => server.close());
    });
    server.listen(port, host, () => resolve(server));
  });
}

async function talk(host, port, send, reply) {
  const server = await serve(host, port, totalOf(send), reply);
  const closed = new Promise((r) => server.on("close", r));
  const socket = net.connect(port, host);
  await new Promise((r) => socket.on("connect", r));
  socket.on("data", () => {});
  await writeInPieces(socket, send);
  await new Promise((r) => socket.on("end", r));
  socket.end();
  await closed;
}

await talk("127.0.0.1", 5000, clientFrames, serverFrames);
await talk("::1", 5000, clientFrames, serverFrames);
await talk("127.0.0.1", 5001, decoyClientFrames, decoyServerFrames);
// For fixtures/pcap/README.md and test/cli/pcap.test.ts: what each direction carries.
const hex = (frames) => Buffer.concat(frames.map((f) => Buffer.from(f))).toString("hex");
console.error(JSON.stringify({ client: hex(clientFrames), server: hex(serverFrames), decoyClient: hex(decoyClientFrames), decoyServer: hex(decoyServerFrames), textBytes: utf8(TEXT).length }, null, 1));
EOF

capture() { # $1 interface, $2 output file
  tcpdump -i "$1" -U -w "$2" 'tcp and (port 5000 or port 5001)' 2>"$tmp/tcpdump.log" &
  local pid=$!
  sleep 1.5
  node "$tmp/exchange.mjs"
  sleep 1
  kill "$pid"
  wait "$pid" || true
  cat "$tmp/tcpdump.log" >&2
}

capture lo "$tmp/lo.pcap"
capture any "$tmp/any.pcap"
cp "$tmp/lo.pcap" "$out/exchange.pcap"
editcap -F pcapng "$tmp/lo.pcap" "$out/exchange.pcapng"
editcap -F pcapng "$tmp/any.pcap" "$out/exchange-any.pcapng"
ls -l "$out"
