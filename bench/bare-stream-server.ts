// The floor for the TCP load runs: a bare Bun.listen that answers every request with a constant
// reply and does nothing else (no parsing beyond counting requests, no store). What it reaches
// beside redis-server is the most any Bun.listen server can reach with the same load tool.
// Usage: PORT=N PROTO=owl|resp [PER_TURN=0] bun bench/bare-stream-server.ts

import type { Socket } from "bun";

const port = Number(process.env.PORT ?? 0);
const proto = process.env.PROTO ?? "resp";
const enc = new TextEncoder();
// The same reply bytes owlcache sends for a hit of a 16-byte key with a 32-byte value.
const reply = enc.encode(
  proto === "owl"
    ? `{"Cmd":"get","Status":200,"Results":"SUCCESS","Key":"key:000000000001","Data":"${"v".repeat(32)}","ResponseHost":"127.0.0.1:${port}","KeyCreateTime":"2026-11-26T10:00:00.000Z"}\n`
    : `$32\r\n${"v".repeat(32)}\r\n`,
);
const MAX_BATCH = 4096;
const replies = new Uint8Array(reply.length * MAX_BATCH);
for (let i = 0; i < MAX_BATCH; i++) replies.set(reply, i * reply.length);
// owl: one request per "\n"; RESP GET (`*2\r\n$3\r\nGET\r\n$N\r\nkey\r\n`): one per "*".
const marker = proto === "owl" ? 10 : 42;
const banner = enc.encode("Owlcache TCP Link Success...\n");
// PER_TURN=0 answers each chunk in its data callback; by default the replies of all connections
// read in one turn of the event loop are written together at its end, as owlcache does.
const perTurn = process.env.PER_TURN !== "0";
let sockets: Socket[] = [];
let counts: number[] = [];
function answerTurn(): void {
  const s = sockets;
  const c = counts;
  sockets = [];
  counts = [];
  for (let i = 0; i < s.length; i++) s[i]!.write(replies, 0, Math.min(c[i]!, MAX_BATCH) * reply.length);
}

const server = Bun.listen({
  hostname: "127.0.0.1",
  port,
  socket: {
    binaryType: "uint8array",
    open(socket) {
      socket.setNoDelay(true);
      if (proto === "owl") socket.write(banner);
    },
    data(socket, chunk: Uint8Array) {
      let n = 0;
      for (let i = 0; i < chunk.length; i++) if (chunk[i] === marker) n++;
      if (!perTurn) {
        socket.write(replies, 0, Math.min(n, MAX_BATCH) * reply.length);
        return;
      }
      // As owlcache's stream servers do: answer every connection of the turn at its end.
      if (sockets.length === 0) setImmediate(answerTurn);
      sockets.push(socket);
      counts.push(n);
    },
  },
});
console.log(`bare ${proto} ${server.port}`);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => (server.stop(true), process.exit(0)));
