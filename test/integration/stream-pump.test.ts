// The connection pump both stream servers share, driven through a real socket with a small line
// protocol of its own: input runs at the end of the turn, and a failure inside one connection's
// input (a bug: parsers and the engine answer bad input with errors) ends that connection only.
import { afterAll, expect, spyOn, test } from "bun:test";
import type { Socket } from "bun";
import { Engine } from "../../src/commands/engine.ts";
import { commandTable } from "../../src/commands/table.ts";
import { Keyspace } from "../../src/store/keyspace.ts";
import { MapStore } from "../../src/store/map-store.ts";
import { ManualClock } from "../../src/store/types.ts";
import { ReplyPipe } from "../../src/transport/reply-pipe.ts";
import { sharedHandlers, streamPump, trackConnections, type StreamConnection } from "../../src/transport/stream-server.ts";
import { testAuthenticator } from "../ops/auth.ts";

const clock = new ManualClock();
const engine = new Engine({ table: commandTable, db: new Keyspace(new MapStore(clock), clock), limits: { maxKeyBytes: 64, maxValueBytes: 1024 }, auth: testAuthenticator() });
const stream = streamPump<StreamConnection>(engine);
const tracked = trackConnections<StreamConnection>();
const decoder = new TextDecoder();

const listener = Bun.listen<StreamConnection>({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    open(socket) {
      tracked.add(socket);
      const pipe = new ReplyPipe();
      socket.data = {
        pipe,
        session: { dialect: "owl", transport: "tcp", client: "127.0.0.1", canRead: true, canWrite: true },
        input: {
          push(chunk) {
            for (const line of decoder.decode(chunk).split("\n").filter(Boolean)) {
              if (line === "boom") throw new Error("a bug in the input");
              pipe.out.text(`echo ${line}\n`);
            }
            return true;
          },
          hold() {},
          resume: () => true,
          find: () => 0,
        },
        awaiting: false,
        paused: false,
        queued: 0,
      };
    },
    ...sharedHandlers(stream, tracked),
  },
});
const server = tracked.server(listener, () => true);

afterAll(() => server.stop(0));

async function client() {
  let text = "";
  let closed = false;
  const socket: Socket = await Bun.connect({
    hostname: "127.0.0.1",
    port: listener.port,
    socket: {
      data(_s, chunk) {
        text += decoder.decode(chunk);
      },
      close() {
        closed = true;
      },
    },
  });
  const until = async (done: () => boolean) => {
    for (let i = 0; i < 200 && !done(); i++) await Bun.sleep(5);
  };
  return { socket, until, text: () => text, closed: () => closed };
}

test("stream pump - an exception in one connection's input closes that connection, reports it, and spares the others", async () => {
  const errors = spyOn(console, "error").mockImplementation(() => {});
  try {
    const good = await client();
    const bad = await client();
    good.socket.write("one\n");
    bad.socket.write("boom\n");
    await bad.until(bad.closed);
    expect(bad.closed()).toBe(true);
    expect(bad.text()).toBe("");
    expect(errors).toHaveBeenCalledTimes(1);
    expect(String(errors.mock.calls[0]?.[1])).toContain("a bug in the input");
    good.socket.write("two\n");
    await good.until(() => good.text().includes("two"));
    expect(good.text()).toBe("echo one\necho two\n");
    expect(good.closed()).toBe(false);
    good.socket.end();
  } finally {
    errors.mockRestore();
  }
});
