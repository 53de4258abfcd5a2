// The Redis protocol server on Bun.listen (SPEC §9): RESP requests through the same engine and
// command table as the owl protocol, one write per batch, the owl server's backpressure.

import type { Socket, TCPSocketListener } from "bun";
import type { Engine } from "../commands/engine.ts";
import { UnknownCommandError } from "../commands/errors.ts";
import type { RespSession } from "../commands/redis-connection.ts";
import { errorReply, type Reply } from "../commands/reply.ts";
import { DEFAULT_RESP_LIMITS, firstArguments, RespParser, type RespLimits, type RespSink } from "../protocol/resp.ts";
import { protocolErrorLine, writeRespReply } from "../protocol/resp-reply.ts";
import { fromUtf8 } from "../store/bytes.ts";
import { MAX_BACKLOG_BYTES, ReplyPipe } from "./reply-pipe.ts";
import { trackConnections, type StreamServer } from "./connections.ts";
import { prefetchChunk } from "./look-ahead.ts";
import { refuse, streamPump, sharedHandlers, type StreamConnection, type StreamInput } from "./stream-server.ts";
import { TOO_MANY_CLIENTS_REPLY, type ConnectionBudget } from "./connection-budget.ts";
import type { InputBudget } from "./input-budget.ts";
import { ByteWriter } from "../protocol/byte-writer.ts";

/** What a connection past the budget gets before the close, as redis-server says it. */
const TOO_MANY_CLIENTS_LINE = ((): Uint8Array => {
  const w = new ByteWriter(64);
  writeRespReply(w, TOO_MANY_CLIENTS_REPLY, false);
  return w.view().slice();
})();

export interface RespServerOptions {
  readonly engine: Engine;
  readonly hostname: string;
  readonly port: number;
  /** connections must send AUTH first (SPEC §5) */
  readonly requireAuth: boolean;
  readonly limits?: Partial<RespLimits>;
  /** stream connections the node may hold (shared with the owl server); none: no limit */
  readonly budget?: ConnectionBudget;
  /** bytes of incomplete requests the node's stream connections may hold together; none: no limit */
  readonly inputs?: InputBudget;
}

interface Connection extends StreamConnection {
  readonly parser: RespParser;
  readonly session: RespSession;
}

/** redis-server's text: the name and as many arguments as fit in about 128 bytes. */
function unknownCommand(name: Uint8Array, args: Uint8Array[]): Reply {
  const shown: string[] = [];
  let length = 0;
  for (const arg of args) {
    if (length >= 128) break;
    const part = arg.subarray(0, 128 - length);
    shown.push(fromUtf8(part));
    length += part.length + 3;
  }
  return errorReply(new UnknownCommandError(fromUtf8(name.subarray(0, 128)), shown));
}

let nextClientId = 1;

export function startRespServer(options: RespServerOptions): StreamServer {
  const { engine } = options;
  const limits: RespLimits = { ...DEFAULT_RESP_LIMITS, ...options.limits };
  const stream = streamPump<Connection>(engine, {
    inputs: options.inputs,
    writeError: (c, reply) => writeRespReply(c.pipe.out, reply, c.session.protocol === 3),
  });

  /** The sink of one connection (given, not read from `socket.data`: a native getter, dear per command). */
  const makeSink = (socket: Socket<Connection>, connection: () => Connection): RespSink => ({
    command(name, args) {
      const c = connection();
      const spec = engine.lookupBytes("resp", name);
      const reply = spec ? engine.execute(c.session, spec, spec.name, args) : unknownCommand(name, args);
      if (reply instanceof Promise) {
        stream.awaitReply(socket, reply, (settled) => writeRespReply(c.pipe.out, settled, c.session.protocol === 3));
        return false;
      }
      writeRespReply(c.pipe.out, reply, c.session.protocol === 3);
      if (options.requireAuth) c.parser.unauthenticated = !c.session.canRead;
      return c.pipe.backlog < MAX_BACKLOG_BYTES && !c.session.closing;
    },
    protocolError(error) {
      // As redis-server: answer what came before, say what was wrong, then close.
      const c = connection();
      c.pipe.out.text(protocolErrorLine(error.message));
      c.session.closing = true;
    },
  });

  const tracked = trackConnections<Connection>(options.budget);
  const listener: TCPSocketListener<Connection> = Bun.listen<Connection>({
    hostname: options.hostname,
    port: options.port,
    socket: {
      open(socket) {
        if (!tracked.add(socket)) return refuse(socket, TOO_MANY_CLIENTS_LINE);
        socket.setNoDelay(true);
        const session: RespSession = {
          dialect: "resp",
          transport: "resp",
          client: socket.remoteAddress,
          canRead: !options.requireAuth,
          canWrite: !options.requireAuth,
          protocol: 2,
          id: nextClientId++,
        };
        const parser = new RespParser(limits);
        parser.unauthenticated = options.requireAuth;
        let c: Connection; // set below: the sink needs the connection it is part of
        const sink = makeSink(socket, () => c);
        const input: StreamInput = {
          push: (chunk) => {
            prefetchChunk(engine, chunk, firstArguments);
            return parser.push(chunk, sink);
          },
          hold: (chunk) => parser.hold(chunk),
          find: firstArguments,
          resume: () => parser.resume(sink),
          get buffered() {
            return parser.buffered;
          },
          discard: () => parser.discard(),
        };
        c = { parser, pipe: new ReplyPipe(), session, input, awaiting: false, paused: false, queued: 0, inputBytes: 0 };
        socket.data = c;
      },
      ...sharedHandlers(stream, tracked),
    },
  });
  return tracked.server(listener);
}
