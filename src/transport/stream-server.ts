// What the TCP servers share: the connection pump (input run once per turn of the event loop,
// batching, backpressure, replies in order) and the socket handlers around it.

import type { Socket } from "bun";
import type { Engine } from "../commands/engine.ts";
import type { Session } from "../commands/spec.ts";
import type { trackConnections } from "./connections.ts";
import type { Reply } from "../commands/reply.ts";
import { prefetchFirstKeys, type LookAhead } from "./look-ahead.ts";
import { MAX_BACKLOG_BYTES, type ReplyPipe } from "./reply-pipe.ts";
import { INPUT_LIMIT_REPLY, InputBudget } from "./input-budget.ts";

/** A protocol's incremental input, bound to the code that handles its requests. */
export interface StreamInput {
  /** Feeds a chunk; false when the handler paused (the rest is held) or the input ended. */
  push(chunk: Uint8Array): boolean;
  /** Keeps a chunk unread while paused. */
  hold(chunk: Uint8Array): void;
  /** Continues with held input; false when it paused again. */
  resume(): boolean;
  /** Bytes held: an incomplete request, input kept while paused. */
  readonly buffered: number;
  /** Drops what is held (the connection is being closed). */
  discard(): void;
  /** The protocol's look-ahead (the first argument of each complete request). */
  readonly find: LookAhead;
}

/** Per-connection state both stream servers keep in `socket.data`. */
export interface StreamConnection {
  readonly pipe: ReplyPipe;
  readonly session: Session;
  input: StreamInput;
  /** an asynchronous reply is on its way; input waits so that replies stay in order */
  awaiting: boolean;
  /** the client is behind on reading its replies; input waits for drain */
  paused: boolean;
  /** input read in this turn of the event loop waits to run at its end: 1 + its place, else 0 */
  queued: number;
  /** what `input` held when last counted in the node's input budget */
  inputBytes: number;
}

export interface StreamPumpOptions<C extends StreamConnection> {
  /** the bytes all stream connections of the node may hold in incomplete requests; none: no limit */
  readonly inputs?: InputBudget;
  /** writes an error reply in the connection's protocol (to a client closed past `inputs`) */
  readonly writeError: (c: C, reply: Reply) => void;
}

/**
 * The connection machinery the owl and RESP servers share: run whatever input is ready, make one
 * write per batch (after the engine's group-commit hook), pause reading while a client does not
 * read its replies or an asynchronous reply is pending, and close once a closing session's
 * replies are out (QUIT, protocol errors).
 */
export function streamPump<C extends StreamConnection>(engine: Engine, options: StreamPumpOptions<C>) {
  const inputs = options.inputs ?? new InputBudget(Infinity);
  /**
   * Writes what a batch produced, after the engine's group commit (`logged`: it already ran for
   * this batch), then decides whether to keep reading.
   */
  const settle = (socket: Socket<C>, c: C, more: boolean, logged: boolean): void => {
    for (;;) {
      if (!logged) engine.beforeReply();
      logged = false;
      const flushed = c.pipe.flush(socket);
      if (c.pipe.broken) {
        end(socket, c); // the client is gone: paused, its close would never be reported
        return;
      }
      if (c.session.closing) {
        if (c.pipe.idle) socket.end();
        else socket.pause(); // drain ends it
        return;
      }
      if (c.awaiting) {
        socket.pause(); // the async reply resumes
        return;
      }
      if (more && c.pipe.backlog <= MAX_BACKLOG_BYTES) return;
      if (!more && flushed) {
        more = c.input.resume();
        continue;
      }
      c.paused = true; // drain resumes
      socket.pause();
      return;
    }
  };

  // Connections whose replies wait for the group commit of this turn of the event loop: as
  // redis-server does, the writes of every connection served in the turn reach the append log
  // in one write (and, with Appendfsync always, one fsync) before any of their replies leave.
  let waiting: { socket: Socket<C>; c: C; more: boolean }[] = [];
  const settleWaiting = (): void => {
    const batch = waiting;
    waiting = [];
    engine.beforeReply();
    for (const { socket, c, more } of batch) guarded(socket, c, () => settle(socket, c, more, true));
  };

  /**
   * Runs `chunk` (or, when null, the input held while paused) and writes what it produced. The
   * connection is passed along: `socket.data` is a native getter, dear on a per-request path.
   */
  const pump = (socket: Socket<C>, c: C, chunk: Uint8Array | null): void => {
    const more = chunk === null ? c.input.resume() : c.input.push(chunk);
    if (c.input.buffered !== c.inputBytes) count(socket, c);
    if (engine.replyWorkPending) {
      if (waiting.length === 0) setImmediate(settleWaiting);
      waiting.push({ socket, c, more });
      return;
    }
    settle(socket, c, more, false);
  };
  // Input runs once per turn of the event loop, for every connection that sent some, as
  // redis-server reads all its ready clients and then answers them before it sleeps. The data
  // handler only queues the chunk; at the end of the turn (setImmediate) the first keys of all
  // queued chunks are prefetched together so that their cache misses overlap, every
  // connection's requests run in one stretch of JavaScript, one group commit covers every
  // reply, and then the replies leave back to back. That last part is most of the gain: a
  // `write` that follows another finds the kernel's paths warm, where one between two data
  // callbacks did not. With 50 clients at pipeline 1 this cut the server's CPU per GET by
  // 13–18 % (bench/README.md, fifth session).
  let turnSockets: Socket<C>[] = [];
  let turnConns: C[] = [];
  let turnChunks: Uint8Array[] = [];
  /** chunks that came after a connection's first one in the same turn (rare), by its place */
  let turnLater: Map<number, Uint8Array[]> | null = null;
  /** per place: what running its input gave (true: keep reading), or null when there is nothing to settle */
  const turnMore: (boolean | null)[] = [];

  // (Parsers and the engine answer bad input with errors. An exception here is a bug: it ends
  // the connections it touched and is reported, but the server and the other connections go on.)
  const runTurn = (): void => {
    const sockets = turnSockets;
    const conns = turnConns;
    const chunks = turnChunks;
    const later = turnLater;
    turnSockets = [];
    turnConns = [];
    turnChunks = [];
    turnLater = null;
    const n = sockets.length;
    // First, so that nothing below can leave a connection with a place in a finished turn.
    for (let i = 0; i < n; i++) conns[i]!.queued = 0;
    if (n > 1 && engine.wantsPrefetch) {
      try {
        prefetchFirstKeys(engine, conns, chunks);
      } catch (error) {
        reportBug(error); // only a hint: the turn goes on without it, no connection is closed
      }
    }
    for (let i = 0; i < n; i++) turnMore[i] = runInput(sockets[i]!, conns[i]!, chunks[i]!, later?.get(i));
    try {
      engine.beforeReply();
    } catch (error) {
      // The group commit failed: no reply of this turn may say that its writes are kept.
      reportBug(error);
      for (let i = 0; i < n; i++) end(sockets[i]!, conns[i]!);
      return;
    }
    // (try/catch inline rather than `guarded`: no closure per connection on the hot path)
    for (let i = 0; i < n; i++) {
      if (turnMore[i] === null) continue;
      try {
        settle(sockets[i]!, conns[i]!, turnMore[i]!, true);
      } catch (error) {
        fail(sockets[i]!, conns[i]!, error);
      }
    }
  };

  /** Runs a connection's input of this turn: whether to keep reading, or null when nothing is to be settled. */
  const runInput = (socket: Socket<C>, c: C, chunk: Uint8Array, later: Uint8Array[] | undefined): boolean | null => {
    // Since the chunk was queued, held input resumed earlier in this turn (by a drain or an
    // asynchronous reply) may have closed the session (QUIT, a protocol error), started an
    // asynchronous reply or filled the backlog: the chunk then fares as if it arrived now.
    if (c.session.closing) return null;
    if (c.awaiting || c.paused) {
      c.input.hold(chunk);
      if (later) for (const next of later) c.input.hold(next);
      count(socket, c);
      return null;
    }
    try {
      let more = c.input.push(chunk);
      if (later) for (const next of later) more = more ? c.input.push(next) : (c.input.hold(next), false);
      // (most chunks hold whole requests: nothing held before or after, one comparison)
      if (c.input.buffered !== c.inputBytes) count(socket, c);
      return more;
    } catch (error) {
      fail(socket, c, error);
      return null;
    }
  };

  /** Tells the input budget what the connection holds now; past it, the largest holders are closed. */
  const count = (socket: Socket<C>, c: C): void => {
    c.inputBytes = c.input.buffered;
    inputs.hold(c, c.inputBytes, socket, evict);
  };

  /**
   * Closes a connection past the input budget: what it holds is dropped, what it was owed (replies
   * of this turn, after the group commit) and one error line are sent, then it ends. A connection
   * waiting for an asynchronous reply gets no line: it could not come after that reply.
   */
  const evict = (socket: Socket<C>, c: C): void => {
    c.input.discard();
    c.inputBytes = 0;
    if (c.session.closing) return;
    if (c.awaiting) return end(socket, c);
    options.writeError(c, INPUT_LIMIT_REPLY);
    c.session.closing = true;
    try {
      engine.beforeReply();
    } catch (error) {
      return fail(socket, c, error); // the group commit failed: nothing of this turn may leave
    }
    if (c.pipe.flush(socket)) socket.end();
    else socket.terminate(); // a client that does not read must not keep its backlog
  };

  const end = (socket: Socket<C>, c: C): void => {
    c.session.closing = true;
    socket.terminate();
  };

  /** A bug met while serving one connection: reported, and that connection (not the server) ends. */
  const fail = (socket: Socket<C>, c: C, error: unknown): void => {
    reportBug(error);
    end(socket, c);
  };

  /** Runs `fn` for one connection; a bug in it ends that connection (`fail`). */
  const guarded = (socket: Socket<C>, c: C, fn: () => void): void => {
    try {
      fn();
    } catch (error) {
      fail(socket, c, error);
    }
  };

  return {
    pump,
    /** The connection closed: what it held leaves the input budget. */
    closed(socket: Socket<C>): void {
      const c = socket.data;
      if (c === undefined || c.inputBytes === 0) return;
      c.inputBytes = 0;
      inputs.release(c);
    },
    data(socket: Socket<C>, chunk: Uint8Array): void {
      const c = socket.data;
      // (no connection: refused at the budget, closing; nothing after QUIT or a protocol error is read)
      if (c === undefined || c.session.closing) return;
      if (c.awaiting || c.paused) {
        c.input.hold(chunk);
        count(socket, c);
        return;
      }
      if (c.queued !== 0) {
        // a second chunk in the same turn: it runs after the first
        turnLater ??= new Map();
        const list = turnLater.get(c.queued - 1);
        if (list) list.push(chunk);
        else turnLater.set(c.queued - 1, [chunk]);
        return;
      }
      if (turnSockets.length === 0) setImmediate(runTurn);
      turnSockets.push(socket);
      turnConns.push(c);
      turnChunks.push(chunk);
      c.queued = turnSockets.length;
    },
    /** Returns true when everything owed has been sent. */
    drain(socket: Socket<C>): boolean {
      const c = socket.data;
      if (c === undefined) return false; // refused at the budget
      // Replies of this connection may be waiting for the turn's group commit: it comes first.
      engine.beforeReply();
      if (!c.pipe.flush(socket)) {
        if (c.pipe.broken) end(socket, c);
        return false;
      }
      if (c.session.closing) {
        socket.end();
        return true;
      }
      if (c.paused && c.pipe.idle) {
        c.paused = false;
        socket.resume();
        guarded(socket, c, () => pump(socket, c, null));
      }
      return true;
    },
    /** Writes an asynchronous reply when it settles, keeping later replies behind it. */
    awaitReply<R>(socket: Socket<C>, reply: Promise<R>, write: (settled: R) => void): void {
      const c = socket.data;
      c.awaiting = true;
      reply.then(
        (settled) =>
          guarded(socket, c, () => {
            write(settled);
            c.awaiting = false;
            socket.resume();
            pump(socket, c, null);
          }),
        // (the engine turns a command's failures into replies: a rejection here is a bug)
        (error: unknown) => fail(socket, c, error),
      );
    },
  };
}

/**
 * Turns away a connection the budget has no room for (see connection-budget.ts): one line saying
 * why, then the close. Its `socket.data` stays unset, which the shared handlers read as refused.
 */
export function refuse(socket: Socket<unknown>, why: Uint8Array): void {
  socket.write(why);
  socket.end();
}

/** An exception inside the pump is a bug (bad input gets error replies): reported on stderr. */
function reportBug(error: unknown): void {
  console.error("owlcache: internal error in the stream pump:", error);
}

/** The socket handlers both stream servers share; `open` (banner, parser) is each protocol's own. */
export function sharedHandlers<C extends StreamConnection>(
  stream: ReturnType<typeof streamPump<C>>,
  tracked: ReturnType<typeof trackConnections<C>>,
) {
  return {
    // Plain Uint8Array chunks: views of them (request lines, keys) are cheaper than Buffer views.
    binaryType: "uint8array" as const,
    data(socket: Socket<C>, chunk: Uint8Array): void {
      stream.data(socket, chunk);
    },
    drain(socket: Socket<C>): void {
      if (stream.drain(socket)) tracked.drained(socket);
    },
    close(socket: Socket<C>): void {
      stream.closed(socket);
      tracked.remove(socket);
    },
    error(socket: Socket<C>): void {
      stream.closed(socket);
      tracked.remove(socket);
    },
  };
}
