// Loads N keys (16-byte keys, 32-byte values) into a server over the owl text protocol or RESP,
// pipelined; optionally half with a TTL. Usage: bun bench/load-keys.ts owl|resp PORT N [ttl-half]
const [proto, portText, countText, ttlHalf] = process.argv.slice(2);
const port = Number(portText);
const n = Number(countText ?? 1_000_000);
const withTtl = ttlHalf === "ttl-half";
const value = "v".repeat(32);
const key = (i: number) => `k:${String(i).padStart(14, "0")}`; // 16 bytes

let replies = 0;
let expected = 0;
let wake: (() => void) | undefined;
const socket = await Bun.connect({
  hostname: "127.0.0.1",
  port,
  socket: {
    data(_s, chunk) {
      for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) replies++;
      if (wake && replies >= expected) wake();
    },
  },
});
if (proto === "owl") {
  expected = 1; // banner
  await new Promise<void>((r) => (wake = r));
  replies = 0;
}
const BATCH = 2000;
for (let start = 0; start < n; start += BATCH) {
  let out = "";
  let lines = 0;
  for (let i = start; i < Math.min(n, start + BATCH); i++) {
    const k = key(i);
    if (proto === "owl") {
      out += `set ${k} ${value}\n`;
      lines++;
      if (withTtl && i % 2 === 0) (out += `expire ${k} 3600\n`), lines++;
    } else {
      out += withTtl && i % 2 === 0
        ? `*5\r\n$3\r\nSET\r\n$16\r\n${k}\r\n$32\r\n${value}\r\n$2\r\nEX\r\n$4\r\n3600\r\n`
        : `*3\r\n$3\r\nSET\r\n$16\r\n${k}\r\n$32\r\n${value}\r\n`;
      lines++;
    }
  }
  expected = replies + lines;
  const done = new Promise<void>((r) => (wake = r));
  socket.write(out);
  if (replies < expected) await done;
}
socket.end();
console.log(`loaded ${n} keys over ${proto}`);
export {};
