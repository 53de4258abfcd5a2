// Baseline for bench/http-load.sh: a bare Bun.serve that answers every request with the same
// envelope owlcache answers to `GET /data/?cmd=get&key=hello`, as a constant. Usage: PORT=N bun run it.

const port = Number(process.env.PORT ?? 0);
const envelope = JSON.stringify({
  Cmd: "get",
  Status: 200,
  Results: "SUCCESS",
  Key: "hello",
  Data: "world",
  ResponseHost: `127.0.0.1:${port}`,
  KeyCreateTime: "2026-11-26T10:00:00.000Z",
});
const headers = { "content-type": "application/json; charset=utf-8", "x-content-type-options": "nosniff" };

const server = Bun.serve({
  hostname: "127.0.0.1",
  port,
  fetch: () => new Response(envelope, { status: 200, headers }),
});
console.log(`bare ${server.port}`);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => server.stop(true).then(() => process.exit(0)));
