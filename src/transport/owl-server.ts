// The owl text protocol server on Bun.listen: banner, line framing, one engine call per line,
// one write per batch of replies, reading paused while a client does not read its replies.

import type { Socket, TCPSocketListener } from "bun";
import type { Engine } from "../commands/engine.ts";
import { CommandError } from "../commands/errors.ts";
import { errorReply, type Reply } from "../commands/reply.ts";
import type { CommandSpec, Session } from "../commands/spec.ts";
import { writeEnvelope } from "../protocol/envelope.ts";
import { BANNER, commandWord, LineFramer, splitArgs, type LineSink } from "../protocol/owl-text.ts";
import { asciiLower, fromUtf8 } from "../store/bytes.ts";
import { MAX_BACKLOG_BYTES, ReplyPipe } from "./reply-pipe.ts";
import { trackConnections, type StreamServer } from "./stream-server.ts";

export interface OwlServerOptions {
  readonly engine: Engine;
  readonly hostname: string;
  readonly port: number;
  /** the host shown in ResponseHost; the port is this server's */
  readonly responseHost: string;
  readonly maxLineBytes: number;
  /** connections must send `pass` first */
  readonly requireAuth: boolean;
}

interface Connection {
  readonly framer: LineFramer;
  readonly pipe: ReplyPipe;
  readonly session: Session;
  sink: LineSink;
  /** an asynchronous reply is on its way; input waits so that replies stay in order */
  awaiting: boolean;
  /** the client is behind on reading its replies; input waits for drain */
  paused: boolean;
}

const BANNER_BYTES = new TextEncoder().encode(BANNER);
/** Command names are short; a longer first word is reported without lower-casing all of it. */
const MAX_NAME_BYTES = 64;

export function startOwlServer(options: OwlServerOptions): StreamServer {
  const { engine } = options;
  const quoted = new Map<string, string>();
  const quote = (name: string): string => {
    let q = quoted.get(name);
    if (q === undefined) {
      q = JSON.stringify(name);
      if (quoted.size < 1000) quoted.set(name, q);
    }
    return q;
  };
  let hostJson = "";

  const answer = (c: Connection, cmd: string, key: Uint8Array | undefined, reply: Reply): void => {
    writeEnvelope(c.pipe.out, quote(cmd), key, reply, hostJson);
    c.pipe.out.byte(10);
  };

  /** Runs whatever input is ready, flushes, and decides whether to keep reading. */
  const pump = (socket: Socket<Connection>, step: () => boolean): void => {
    const c = socket.data;
    let more = step();
    for (;;) {
      engine.beforeReply();
      const flushed = c.pipe.flush(socket);
      if (c.session.closing && c.pipe.idle) {
        socket.end();
        return;
      }
      if (c.awaiting) {
        socket.pause(); // the async reply resumes
        return;
      }
      if (more && c.pipe.backlog <= MAX_BACKLOG_BYTES) return;
      if (!more && flushed) {
        more = c.framer.resume(c.sink);
        continue;
      }
      c.paused = true; // drain resumes
      socket.pause();
      return;
    }
  };

  const makeSink = (socket: Socket<Connection>): LineSink => ({
    line(line) {
      if (line.length === 0) return true;
      const c = socket.data;
      const { name, argsStart } = commandWord(line);
      const spec: CommandSpec | undefined = engine.lookupBytes("owl", name);
      // Only an unknown name needs its text (for the error); a known one is its spec's name.
      const lower = spec ? spec.name : name.length <= MAX_NAME_BYTES ? asciiLower(name) : fromUtf8(name.subarray(0, MAX_NAME_BYTES));
      const args = spec ? splitArgs(line, argsStart, spec.owlSplit) : [];
      const key = spec?.httpArgs?.[0] === "key" ? args[0] : undefined;
      const reply = engine.execute(c.session, spec, lower, args);
      if (!(reply instanceof Promise)) {
        answer(c, lower, key, reply);
        return c.pipe.backlog < MAX_BACKLOG_BYTES;
      }
      // Keep replies in order: stop reading until this one is written.
      const keyCopy = key?.slice();
      c.awaiting = true;
      void reply.then((settled) => {
        answer(c, lower, keyCopy, settled);
        c.awaiting = false;
        socket.resume();
        pump(socket, () => c.framer.resume(c.sink));
      });
      return false;
    },
    tooLong() {
      const c = socket.data;
      answer(c, "", undefined, errorReply(new CommandError(500, `request line longer than ${options.maxLineBytes} bytes`)));
      return c.pipe.backlog < MAX_BACKLOG_BYTES;
    },
  });

  const tracked = trackConnections<Connection>();
  const listener: TCPSocketListener<Connection> = Bun.listen<Connection>({
    hostname: options.hostname,
    port: options.port,
    socket: {
      open(socket) {
        tracked.add(socket);
        socket.setNoDelay(true);
        const session: Session = {
          dialect: "owl",
          transport: "tcp",
          client: socket.remoteAddress,
          canRead: !options.requireAuth,
          canWrite: !options.requireAuth,
        };
        socket.data = { framer: new LineFramer(options.maxLineBytes), pipe: new ReplyPipe(), session, sink: makeSink(socket), awaiting: false, paused: false };
        socket.write(BANNER_BYTES);
      },
      data(socket, chunk) {
        const c = socket.data;
        if (c.awaiting || c.paused) {
          c.framer.hold(chunk);
          return;
        }
        pump(socket, () => c.framer.push(chunk, c.sink));
      },
      drain(socket) {
        const c = socket.data;
        if (!c.pipe.flush(socket)) return;
        if (c.paused && c.pipe.idle) {
          c.paused = false;
          socket.resume();
          pump(socket, () => c.framer.resume(c.sink));
        }
        tracked.drained(socket);
      },
      close(socket) {
        tracked.remove(socket);
      },
      error(socket) {
        tracked.remove(socket);
      },
    },
  });
  hostJson = JSON.stringify(`${options.responseHost}:${listener.port}`);
  return tracked.server(listener, (socket) => socket.data?.pipe.idle ?? true);
}
