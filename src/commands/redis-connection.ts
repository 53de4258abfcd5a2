// Redis connection commands: PING, ECHO, AUTH, SELECT, QUIT, HELLO and CLIENT. AUTH uses the
// node's password (SPEC §5); HELLO 3 switches the connection's replies to RESP3.

import { CommandError } from "./errors.ts";
import { isWord, parseInt64 } from "./redis-args.ts";
import { bulkText, mapReply } from "./redis-reply.ts";
import { array, bulk, int, NIL, OK, simple, type Reply } from "./reply.ts";
import type { CommandContext, CommandSpec, Session } from "./spec.ts";
import { fromUtf8 } from "../store/bytes.ts";
import { VERSION } from "../version.ts";

/** A RESP connection's session: the protocol version its replies use and its CLIENT ID. */
export interface RespSession extends Session {
  protocol: 2 | 3;
  readonly id: number;
}

/** The Redis version we tell clients that gate features on it: the command set of 7.0. */
export const REDIS_COMPAT_VERSION = "7.0.0";

function isRespSession(session: Session): session is RespSession {
  return "protocol" in session;
}

function wrongPass(): CommandError {
  return new CommandError(401, "invalid username-password pair or user is disabled.", "WRONGPASS");
}

/** AUTH [user] password: only the "default" user exists; a failure leaves the state as it was. */
function authenticate({ auth, session }: CommandContext, user: Uint8Array | undefined, password: Uint8Array): void {
  const userOk = user === undefined || isWord(user, "default");
  // Check the password even for a wrong user name, so both fail alike and count as attempts.
  if (!auth.verifyPassword(password, session.client) || !userOk) throw wrongPass();
  session.canRead = true;
  session.canWrite = true;
}

/** CLIENT SETNAME / HELLO SETNAME: printable ASCII without spaces, as redis-server allows. */
function setName(session: Session, name: Uint8Array): void {
  for (const c of name) {
    if (c < 33 || c > 126) throw new CommandError(500, "Client names cannot contain spaces, newlines or special characters.");
  }
  session.name = name.length === 0 ? undefined : fromUtf8(name);
}

function hello(ctx: CommandContext, args: Uint8Array[]): Reply {
  const { session } = ctx;
  let version: 2 | 3 | undefined;
  let next = 0;
  if (args.length > 0) {
    const v = parseInt64(args[next++]!);
    if (v === undefined) throw new CommandError(500, "Protocol version is not an integer or out of range");
    if (v !== 2 && v !== 3) throw new CommandError(500, "unsupported protocol version", "NOPROTO");
    version = v;
  }
  let name: Uint8Array | undefined;
  let credentials: [Uint8Array, Uint8Array] | undefined;
  for (let j = next; j < args.length; j++) {
    const more = args.length - 1 - j;
    if (isWord(args[j]!, "auth") && more >= 2) {
      credentials = [args[j + 1]!, args[j + 2]!];
      j += 2;
    } else if (isWord(args[j]!, "setname") && more >= 1) {
      name = args[++j]!;
      setName({ ...session }, name); // validate only; applied once authenticated
    } else {
      throw new CommandError(500, `Syntax error in HELLO option '${fromUtf8(args[j]!)}'`);
    }
  }
  if (credentials) authenticate(ctx, credentials[0], credentials[1]);
  if (!session.canRead) {
    throw new CommandError(
      401,
      "HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
      "NOAUTH",
    );
  }
  if (name) setName(session, name);
  const resp = isRespSession(session) ? session : undefined;
  if (resp && version) resp.protocol = version;
  return mapReply([
    bulkText("server"), bulkText("owlcache"),
    bulkText("version"), bulkText(REDIS_COMPAT_VERSION),
    bulkText("owlcache_version"), bulkText(VERSION),
    bulkText("proto"), int(resp?.protocol ?? 2),
    bulkText("id"), int(resp?.id ?? 0),
    bulkText("mode"), bulkText("standalone"),
    bulkText("role"), bulkText("master"),
    bulkText("modules"), array([]),
  ]);
}

function client({ session }: CommandContext, args: Uint8Array[]): Reply {
  const sub = args[0]!;
  const arity = (n: number): void => {
    if (args.length !== n) throw new CommandError(500, `wrong number of arguments for 'client|${fromUtf8(sub).toLowerCase()}' command`);
  };
  if (isWord(sub, "setname")) {
    arity(2);
    setName(session, args[1]!);
    return OK;
  }
  if (isWord(sub, "getname")) {
    arity(1);
    return session.name === undefined ? NIL : bulkText(session.name);
  }
  if (isWord(sub, "setinfo")) {
    arity(3);
    if (!isWord(args[1]!, "lib-name") && !isWord(args[1]!, "lib-ver")) {
      throw new CommandError(500, `Unrecognized option '${fromUtf8(args[1]!)}'`);
    }
    return OK;
  }
  if (isWord(sub, "id")) {
    arity(1);
    return int(isRespSession(session) ? session.id : 0);
  }
  throw new CommandError(500, `unknown subcommand '${fromUtf8(sub)}'. Try CLIENT HELP.`);
}

function spec(name: string, minArgs: number, maxArgs: number, usage: string, summary: string, run: CommandSpec["run"], isPublic = false): CommandSpec {
  return { name, dialects: ["resp"], minArgs, maxArgs, write: false, public: isPublic, usage, summary, run };
}

export const redisConnectionCommands: readonly CommandSpec[] = [
  spec("ping", 0, 1, "[message]", "Answers PONG, or the message.", (_ctx, [message]) => (message ? bulk(message) : simple("PONG"))),
  spec("echo", 1, 1, "message", "Answers the message.", (_ctx, [message]) => bulk(message!)),
  spec("auth", 1, Infinity, "[username] password", "Authenticates the connection with the node's password (user: default).", (ctx, args) => {
    if (args.length > 2) throw new CommandError(500, "syntax error");
    authenticate(ctx, args.length === 2 ? args[0] : undefined, args[args.length - 1]!);
    return OK;
  }, true),
  spec("select", 1, 1, "0", "Selects database 0, the only one.", (_ctx, [index]) => {
    const n = parseInt64(index!);
    if (n === undefined || typeof n === "bigint" || n < -2147483648 || n > 2147483647) {
      throw new CommandError(500, "value is not an integer or out of range");
    }
    if (n !== 0) throw new CommandError(500, "DB index is out of range");
    return OK;
  }),
  spec("quit", 0, Infinity, "", "Closes the connection after answering OK.", ({ session }) => {
    session.closing = true;
    return OK;
  }, true),
  spec("hello", 0, Infinity, "[2|3 [AUTH user password] [SETNAME name]]", "Handshake: server facts, optional AUTH, RESP2 or RESP3 replies.", hello, true),
  spec("client", 1, Infinity, "SETNAME name | GETNAME | SETINFO attr value | ID", "Connection name and library facts.", client),
];
