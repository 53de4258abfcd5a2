// The owl text protocol server on Bun.listen: banner, line framing, one engine call per line,
// one write per batch of replies, reading paused while a client does not read its replies.

import type { Socket, TCPSocketListener } from "bun";
import type { Engine } from "../commands/engine.ts";
import { CommandError } from "../commands/errors.ts";
import { errorReply, type Reply } from "../commands/reply.ts";
import type { CommandSpec, Session } from "../commands/spec.ts";
import { quoted, writeEnvelope } from "../protocol/envelope.ts";
import { BANNER, commandEnd, LineFramer, lineFirstArguments, splitArgs, type LineSink } from "../protocol/owl-text.ts";
import { asciiLower, fromUtf8 } from "../store/bytes.ts";
import { MAX_BACKLOG_BYTES, ReplyPipe } from "./reply-pipe.ts";
import { trackConnections, type StreamServer } from "./connections.ts";
import { prefetchChunk } from "./look-ahead.ts";
import { refuse, streamPump, sharedHandlers, type StreamConnection, type StreamInput } from "./stream-server.ts";
import { TOO_MANY_CLIENTS_REPLY, type ConnectionBudget } from "./connection-budget.ts";
import { ByteWriter } from "../protocol/byte-writer.ts";
import { copyBytes } from "../store/bytes.ts";

export interface OwlServerOptions {
  readonly engine: Engine;
  readonly hostname: string;
  readonly port: number;
  /** the host shown in ResponseHost; the port is this server's */
  readonly responseHost: string;
  readonly maxLineBytes: number;
  /** connections must send `pass` first */
  readonly requireAuth: boolean;
  /** stream connections the node may hold (shared with the RESP server); none: no limit */
  readonly budget?: ConnectionBudget;
}

interface Connection extends StreamConnection {
  readonly framer: LineFramer;
}

const BANNER_BYTES = new TextEncoder().encode(BANNER);
/** Command names are short; a longer first word is reported without lower-casing all of it. */
const MAX_NAME_BYTES = 64;

function unknownName(name: Uint8Array): string {
  return name.length <= MAX_NAME_BYTES ? asciiLower(name) : fromUtf8(name.subarray(0, MAX_NAME_BYTES));
}

export function startOwlServer(options: OwlServerOptions): StreamServer {
  const { engine } = options;
  let hostJson = "";

  const answer = (c: Connection, cmd: string, key: Uint8Array | undefined, reply: Reply): void => {
    writeEnvelope(c.pipe.out, quoted(cmd), key, reply, hostJson);
    c.pipe.out.byte(10);
  };

  const stream = streamPump<Connection>(engine);

  /** The sink of one connection (given, not read from `socket.data`: a native getter, dear per line). */
  const makeSink = (socket: Socket<Connection>, connection: () => Connection): LineSink => ({
    line(buf, start, end) {
      if (end === start) return true;
      const c = connection();
      const nameEnd = commandEnd(buf, start, end);
      const spec: CommandSpec | undefined = engine.lookupRange("owl", buf, start, nameEnd);
      // Only an unknown name needs its text (for the error); a known one is its spec's name.
      const lower = spec ? spec.name : unknownName(buf.subarray(start, nameEnd));
      // (an unknown name's first arguments go into its error message: at most three, the rest in a fourth)
      const args = splitArgs(buf, nameEnd, end, spec ? spec.owlSplit : 4);
      const key = spec?.httpArgs?.[0] === "key" ? args[0] : undefined;
      const reply = engine.execute(c.session, spec, lower, args);
      if (!(reply instanceof Promise)) {
        answer(c, lower, key, reply);
        return c.pipe.backlog < MAX_BACKLOG_BYTES;
      }
      // Keep replies in order: stop reading until this one is written.
      const keyCopy = key && copyBytes(key);
      stream.awaitReply(socket, reply, (settled) => answer(c, lower, keyCopy, settled));
      return false;
    },
    tooLong() {
      const c = connection();
      answer(c, "", undefined, errorReply(new CommandError(500, `request line longer than ${options.maxLineBytes} bytes`)));
      return c.pipe.backlog < MAX_BACKLOG_BYTES;
    },
  });

  /** The line a connection past the budget gets instead of the banner (made at the first one). */
  let refusal: Uint8Array | undefined;
  const refusalLine = (): Uint8Array => {
    if (refusal) return refusal;
    const w = new ByteWriter(256);
    writeEnvelope(w, quoted(""), undefined, TOO_MANY_CLIENTS_REPLY, hostJson);
    w.byte(10);
    return (refusal = w.view().slice());
  };

  const tracked = trackConnections<Connection>(options.budget);
  const listener: TCPSocketListener<Connection> = Bun.listen<Connection>({
    hostname: options.hostname,
    port: options.port,
    socket: {
      open(socket) {
        if (!tracked.add(socket)) return refuse(socket, refusalLine());
        socket.setNoDelay(true);
        const session: Session = {
          dialect: "owl",
          transport: "tcp",
          client: socket.remoteAddress,
          canRead: !options.requireAuth,
          canWrite: !options.requireAuth,
        };
        const framer = new LineFramer(options.maxLineBytes);
        let c: Connection; // set below: the sink needs the connection it is part of
        const sink = makeSink(socket, () => c);
        const input: StreamInput = {
          push: (chunk) => {
            prefetchChunk(engine, chunk, lineFirstArguments);
            return framer.push(chunk, sink);
          },
          hold: (chunk) => framer.hold(chunk),
          find: lineFirstArguments,
          resume: () => framer.resume(sink),
        };
        c = { framer, pipe: new ReplyPipe(), session, input, awaiting: false, paused: false, queued: 0 };
        socket.data = c;
        socket.write(BANNER_BYTES);
      },
      ...sharedHandlers(stream, tracked),
    },
  });
  hostJson = JSON.stringify(`${options.responseHost}:${listener.port}`);
  return tracked.server(listener);
}
