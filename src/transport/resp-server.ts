// The Redis protocol server on Bun.listen (SPEC §9): RESP requests through the same engine and
// command table as the owl protocol, one write per batch, the owl server's backpressure.

import type { Socket, TCPSocketListener } from "bun";
import type { Engine } from "../commands/engine.ts";
import { UnknownCommandError } from "../commands/errors.ts";
import type { RespSession } from "../commands/redis-connection.ts";
import { errorReply, type Reply } from "../commands/reply.ts";
import type { CommandSpec } from "../commands/spec.ts";
import { DEFAULT_RESP_LIMITS, RespParser, type RespLimits, type RespSink } from "../protocol/resp.ts";
import { protocolErrorLine, writeRespReply } from "../protocol/resp-reply.ts";
import { fromUtf8 } from "../store/bytes.ts";
import { MAX_BACKLOG_BYTES, ReplyPipe } from "./reply-pipe.ts";
import { streamPump, trackConnections, type StreamConnection, type StreamInput, type StreamServer } from "./stream-server.ts";

export interface RespServerOptions {
  readonly engine: Engine;
  readonly hostname: string;
  readonly port: number;
  /** connections must send AUTH first (SPEC §5) */
  readonly requireAuth: boolean;
  readonly limits?: Partial<RespLimits>;
}

interface Connection extends StreamConnection {
  readonly parser: RespParser;
  readonly session: RespSession;
}

/** Longest command name we look up; anything longer is unknown without hashing it. */
const MAX_NAME_BYTES = 32;

/**
 * Command lookup straight from the request bytes: a case-folded hash picks a bucket and the
 * name is compared byte by byte, so no string is made per request.
 */
export class CommandIndex {
  private readonly buckets = new Map<number, { name: Uint8Array; spec: CommandSpec }[]>();

  constructor(specs: Iterable<CommandSpec>) {
    for (const spec of specs) {
      const name = new TextEncoder().encode(spec.name);
      const h = hashFolded(name, 0, name.length);
      const bucket = this.buckets.get(h) ?? [];
      bucket.push({ name, spec });
      this.buckets.set(h, bucket);
    }
  }

  /** The command named by `source[start, end)`, in any case. */
  find(source: Uint8Array, start = 0, end = source.length): CommandSpec | undefined {
    if (end - start > MAX_NAME_BYTES) return undefined;
    const bucket = this.buckets.get(hashFolded(source, start, end));
    if (bucket === undefined) return undefined;
    for (const entry of bucket) if (equalsFolded(entry.name, source, start, end)) return entry.spec;
    return undefined;
  }
}

function hashFolded(source: Uint8Array, start: number, end: number): number {
  let h = end - start;
  for (let i = start; i < end; i++) h = (Math.imul(h, 31) + (source[i]! | 0x20)) | 0;
  return h;
}

/** `lower` is a lower-case ASCII name; the source bytes may be in any case. */
function equalsFolded(lower: Uint8Array, source: Uint8Array, start: number, end: number): boolean {
  if (lower.length !== end - start) return false;
  for (let i = 0; i < lower.length; i++) {
    const c = source[start + i]!;
    if ((c >= 65 && c <= 90 ? c + 32 : c) !== lower[i]) return false;
  }
  return true;
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
  const index = new CommandIndex(engine.commands("resp"));
  const stream = streamPump<Connection>(engine);

  const makeSink = (socket: Socket<Connection>): RespSink => ({
    command(source, nameStart, nameEnd, args) {
      const c = socket.data;
      const spec = index.find(source, nameStart, nameEnd);
      const reply = spec ? engine.execute(c.session, spec, spec.name, args) : unknownCommand(source.subarray(nameStart, nameEnd), args);
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
      const c = socket.data;
      c.pipe.out.text(protocolErrorLine(error.message));
      c.session.closing = true;
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
        const sink = makeSink(socket);
        const input: StreamInput = {
          push: (chunk) => parser.push(chunk, sink),
          hold: (chunk) => parser.hold(chunk),
          resume: () => parser.resume(sink),
        };
        socket.data = { parser, pipe: new ReplyPipe(), session, input, awaiting: false, paused: false };
      },
      data(socket, chunk) {
        stream.data(socket, chunk);
      },
      drain(socket) {
        if (stream.drain(socket)) tracked.drained(socket);
      },
      close(socket) {
        tracked.remove(socket);
      },
      error(socket) {
        tracked.remove(socket);
      },
    },
  });
  return tracked.server(listener, (socket) => socket.data?.pipe.idle ?? true);
}
