#!/usr/bin/env bash
# Remakes fixtures/pcap/*: a REAL capture (tcpdump on the loopback interface) of a small exchange of
# syncwire frames over TCP, written in 7-byte pieces with Nagle off so every frame spans several TCP
# segments. Frames are built with the repo's own encodeFrame (from dist/, built here).
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
import net from "node:net";
import { encodeFrame } from "$PWD/dist/index.js";

const text = (s) => new TextEncoder().encode(s);
const pattern = (n) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff);
const clientFrames = [
  { op: 7, seq: 1, body: text("hello") }, // HELLO
  { op: 4, seq: 2, body: pattern(300) }, // SEND, 300-byte body
  { op: 2, seq: 3 }, // HEARTBEAT
];
const serverFrames = [
  { op: 8, seq: 1, body: text("welcome") }, // WELCOME
  { op: 5, seq: 2 }, // ACK
  { op: 10, seq: 0, body: text("notify") }, // NOTIFY
  { op: 3, seq: 3 }, // HEARTBEAT_ACK
];
const decoyFrames = [{ op: 1000, seq: 9, body: text("decoy") }];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function writeInPieces(socket, frames) {
  socket.setNoDelay(true);
  for (const frame of frames) {
    const bytes = encodeFrame(frame);
    for (let at = 0; at < bytes.length; at += 7) {
      socket.write(bytes.subarray(at, at + 7));
      await sleep(2);
    }
  }
}
const totalOf = (frames) => frames.reduce((n, f) => n + encodeFrame(f).length, 0);

function serve(host, port, reply) {
  return new Promise((resolve) => {
    const server = net.createServer((socket) => {
      let got = 0;
      socket.on("data", async (d) => {
        got += d.length;
        if (got === totalOf(clientFrames)) {
          await writeInPieces(socket, reply);
          socket.end();
        }
      });
      socket.on("close", () => server.close());
    });
    server.listen(port, host, () => resolve(server));
  });
}

async function talk(host, port, reply) {
  const server = await serve(host, port, reply);
  const closed = new Promise((r) => server.on("close", r));
  const socket = net.connect(port, host);
  await new Promise((r) => socket.on("connect", r));
  socket.on("data", () => {});
  await writeInPieces(socket, clientFrames);
  await new Promise((r) => socket.on("end", r));
  socket.end();
  await closed;
}

await talk("127.0.0.1", 5000, serverFrames);
await talk("::1", 5000, serverFrames);
await talk("127.0.0.1", 5001, decoyFrames);
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
