// The owl text protocol server on Bun.listen: banner, line framing, one engine call per line,
// one write per batch of replies, reading paused while a client does not read its replies.

import type { Socket, TCPSocketListener } from "bun";
import type { Engine } from "../commands/engine.ts";
import { CommandError } from "../commands/errors.ts";
import { errorReply, type Reply } from "../commands/reply.ts";
import type { CommandSpec, Session } from "../commands/spec.ts";
import { quoted, writeEnvelope } from "../protocol/envelope.ts";
import { BANNER, commandEnd, LineFramer, lineFirstArguments, splitArgs, trimmedEnd, type LineSink } from "../protocol/owl-text.ts";
import { asciiLower, fromUtf8 } from "../store/bytes.ts";
import { MAX_BACKLOG_BYTES, ReplyPipe } from "./reply-pipe.ts";
import { trackConnections, type StreamServer } from "./connections.ts";
import { prefetchChunk } from "./look-ahead.ts";
import { refuse, streamPump, sharedHandlers, type StreamConnection, type StreamInput } from "./stream-server.ts";
import { TOO_MANY_CLIENTS_REPLY, type ConnectionBudget } from "./connection-budget.ts";
import type { InputBudget } from "./input-budget.ts";
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
  /** bytes of incomplete requests the node's stream connections may hold together; none: no limit */
  readonly inputs?: InputBudget;
}

interface Connection extends StreamConnection {
  readonly framer: LineFramer;
}

const BANNER_BYTES = new TextEncoder().encode(BANNER);
/**
 * The longest line before `pass` when a password is required: a `pass` line is short, and a
 * client that has not authenticated should not hold a megabyte (redis-server allows such a
 * client bulk strings of 16 KiB).
 */
export const UNAUTHENTICATED_MAX_LINE_BYTES = 16 * 1024;
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

  const stream = streamPump<Connection>(engine, {
    inputs: options.inputs,
    writeError: (c, reply) => answer(c, "", undefined, reply),
  });
  /** The line limit for a connection as it now stands (lower until it authenticates). */
  const lineLimit = (session: Session): number =>
    options.requireAuth && !session.canRead ? Math.min(UNAUTHENTICATED_MAX_LINE_BYTES, options.maxLineBytes) : options.maxLineBytes;

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
      // Trailing spaces end no word of a command split on every space; `set` and the others
      // with an owlSplit keep their last argument byte for byte.
      const argsEnd = spec && spec.owlSplit === undefined ? trimmedEnd(buf, nameEnd, end) : end;
      const args = splitArgs(buf, nameEnd, argsEnd, spec ? spec.owlSplit : 4);
      const key = spec?.httpArgs?.[0] === "key" ? args[0] : undefined;
      const reply = engine.execute(c.session, spec, lower, args);
      if (options.requireAuth) c.framer.maxLineBytes = lineLimit(c.session);
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
      const limit = c.framer.maxLineBytes;
      const before = limit < options.maxLineBytes ? " before pass" : "";
      answer(c, "", undefined, errorReply(new CommandError(500, `request line longer than ${limit} bytes${before}`)));
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
        const framer = new LineFramer(lineLimit(session));
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
          get buffered() {
            return framer.buffered;
          },
          discard: () => framer.discard(),
        };
        c = { framer, pipe: new ReplyPipe(), session, input, awaiting: false, paused: false, queued: 0, inputBytes: 0 };
        socket.data = c;
        socket.write(BANNER_BYTES);
      },
      ...sharedHandlers(stream, tracked),
    },
  });
  hostJson = JSON.stringify(`${options.responseHost}:${listener.port}`);
  return tracked.server(listener);
}
