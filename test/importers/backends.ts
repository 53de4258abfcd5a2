// Real redis-server and memcached processes for the read-through tests, on free loopback ports,
// plus a "slow" server that accepts connections and never answers.

import type { Subprocess, TCPSocketListener } from "bun";

export interface Server {
  readonly port: number;
  stop(): Promise<void>;
}

/** A port nothing listens on right now (bind 0, read it, close). */
export function freePort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

async function waitForPort(port: number, proc: Subprocess, name: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`${name} exited with ${proc.exitCode}`);
    try {
      const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
      socket.end();
      return;
    } catch {
      await Bun.sleep(20);
    }
  }
  throw new Error(`${name} did not listen on ${port}`);
}

function serverOf(proc: Subprocess, port: number): Server {
  return {
    port,
    async stop() {
      proc.kill("SIGKILL");
      await proc.exited;
    },
  };
}

export async function startRedis(options: { port?: number; password?: string } = {}): Promise<Server> {
  const port = options.port ?? freePort();
  const args = ["/usr/bin/redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
  if (options.password) args.push("--requirepass", options.password);
  const proc = Bun.spawn(args, { stdout: "ignore", stderr: "ignore" });
  await waitForPort(port, proc, "redis-server");
  return serverOf(proc, port);
}

export async function startMemcached(options: { port?: number } = {}): Promise<Server> {
  const port = options.port ?? freePort();
  const args = ["/usr/bin/memcached", "-l", "127.0.0.1", "-p", String(port), "-U", "0", "-m", "64", "-t", "1"];
  if (process.getuid?.() === 0) args.push("-u", "root"); // memcached refuses to run as root unless told to
  const proc = Bun.spawn(args, {
    stdout: "ignore",
    stderr: "ignore",
  });
  await waitForPort(port, proc, "memcached");
  return serverOf(proc, port);
}

/** Accepts connections, reads everything, answers nothing: a hung backend. */
export function startSilentServer(): Server & { readonly connections: number } {
  let connections = 0;
  const listener: TCPSocketListener = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open() {
        connections++;
      },
      data() {},
    },
  });
  return {
    port: listener.port,
    get connections() {
      return connections;
    },
    async stop() {
      listener.stop(true);
    },
  };
}

/** Answers every chunk it receives with `reply`: a server that does not speak the protocol. */
export function startGarbageServer(reply: string): Server & { readonly connections: number } {
  let connections = 0;
  const listener: TCPSocketListener = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open() {
        connections++;
      },
      data(socket) {
        socket.write(reply);
      },
    },
  });
  return {
    port: listener.port,
    get connections() {
      return connections;
    },
    async stop() {
      listener.stop(true);
    },
  };
}

/** A Logger that keeps its lines for assertions. */
export function recordingLogger() {
  const lines: { level: string; event: string; fields?: Record<string, unknown> }[] = [];
  const logger = {
    info: (event: string, fields?: Record<string, unknown>) => void lines.push({ level: "info", event, fields }),
    warn: (event: string, fields?: Record<string, unknown>) => void lines.push({ level: "warn", event, fields }),
    error: (event: string, fields?: Record<string, unknown>) => void lines.push({ level: "error", event, fields }),
  };
  return { logger, lines };
}

/** Stores a value in memcached with a raw `set` (the tests' writer; the code under test only reads). */
export async function memcachedSet(port: number, key: string, value: Uint8Array | string): Promise<void> {
  const data = typeof value === "string" ? new TextEncoder().encode(value) : value;
  const head = new TextEncoder().encode(`set ${key} 0 0 ${data.length}\r\n`);
  const request = new Uint8Array(head.length + data.length + 2);
  request.set(head);
  request.set(data, head.length);
  request.set([13, 10], head.length + data.length);
  let answer = "";
  await new Promise<void>((resolve, reject) => {
    void Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(socket) {
          socket.write(request);
        },
        data(socket, chunk) {
          answer += new TextDecoder().decode(chunk);
          if (answer.endsWith("\r\n")) {
            socket.end();
            if (answer === "STORED\r\n") resolve();
            else reject(new Error(`memcached set: ${answer}`));
          }
        },
        connectError(_socket, error) {
          reject(error);
        },
      },
    });
  });
}
