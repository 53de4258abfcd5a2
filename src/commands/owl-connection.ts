// Connection commands of the original protocol: ping and pass.

import { CommandError } from "./errors.ts";
import { bulk, OK, simple, type Reply } from "./reply.ts";
import type { CommandSpec } from "./spec.ts";

export const owlConnectionCommands: readonly CommandSpec[] = [
  {
    name: "ping",
    dialects: ["owl"],
    minArgs: 0,
    maxArgs: 1,
    write: false,
    summary: "Answers PONG, or the text given.",
    usage: "[text]",
    owlSplit: 1,
    httpArgs: ["valuedata"],
    run: (_ctx, [text]) => (text && text.length > 0 ? bulk(text) : simple("PONG")),
  },
  {
    name: "pass",
    dialects: ["owl"],
    minArgs: 1,
    maxArgs: 1,
    write: false,
    public: true,
    summary: "Authenticates: over TCP unlocks this connection; over HTTP returns a token in Data.",
    usage: "<password>",
    owlSplit: 1,
    httpArgs: ["pass"],
    run: ({ auth, session }, [password]): Reply | Promise<Reply> => {
      if (!auth.verifyPassword(password!, session.client)) throw new CommandError(401, "wrong password");
      session.canRead = true;
      session.canWrite = true;
      if (session.transport !== "http") return OK; // a stream connection is now unlocked
      const token = auth.issueToken(session.client);
      if (typeof token === "string") return simple(token);
      return token.then(simple);
    },
  },
];
