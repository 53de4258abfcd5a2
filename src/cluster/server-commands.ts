// `/server/` (SPEC §7): list, show, add and remove peers of the owlcache or gossip list. The
// caller has checked the token. Answers show Pass and Token as "" whatever the file holds.

import { RESULTS, type Status } from "../commands/errors.ts";
import { ZERO_TIME, type EnvelopeFields } from "../protocol/envelope.ts";
import { parsePeerAddress } from "./address.ts";
import type { GroupType, PeerEntry, PeerLists } from "./peer-list.ts";

export interface ServerFields {
  readonly cmd?: string;
  readonly group_type?: string;
  readonly address?: string;
  readonly pass?: string;
}

export const SERVER_COMMANDS = ["getall", "get", "add", "delete"] as const;

/** A list entry as answers show it: the original's record with the secrets blanked. */
export function publicEntry(entry: PeerEntry): { Cmd: string; Address: string; Pass: string; Token: string } {
  return { Cmd: "", Address: entry.address.text, Pass: "", Token: "" };
}

export function serverEnvelope(cmd: string, status: Status, data: unknown, responseHost: string, message?: string): EnvelopeFields {
  const env: EnvelopeFields = { Cmd: cmd, Status: status, Results: RESULTS[status], Key: "", Data: data, ResponseHost: responseHost, KeyCreateTime: ZERO_TIME };
  if (message !== undefined) env.Message = message;
  return env;
}

export function runServerCommand(lists: PeerLists, fields: ServerFields, responseHost: string): EnvelopeFields {
  const cmd = (fields.cmd ?? "").toLowerCase();
  const reply = (status: Status, data: unknown = null, message?: string) => serverEnvelope(cmd, status, data, responseHost, message);
  const groupType = (fields.group_type ?? "owlcache").toLowerCase() || "owlcache";
  if (groupType !== "owlcache" && groupType !== "gossip") return reply(500, null, "group_type must be owlcache or gossip");
  const list = lists.of(groupType as GroupType);
  if (!(SERVER_COMMANDS as readonly string[]).includes(cmd)) {
    return reply(501, null, `unknown command '${fields.cmd ?? ""}': /server/ knows ${SERVER_COMMANDS.join(", ")}`);
  }
  if (cmd === "getall") return reply(200, list.all().map(publicEntry));
  if (!fields.address) return reply(500, null, "address is required");
  const address = parsePeerAddress(fields.address);
  if (!address) return reply(500, null, "address must be host:port, optionally with http:// or https://");
  switch (cmd) {
    case "get": {
      const entry = list.get(address);
      return entry ? reply(200, publicEntry(entry)) : reply(404);
    }
    case "add":
      try {
        // (no pass field: a listed peer keeps the one it has)
        list.add(address, fields.pass);
      } catch (error) {
        return reply(500, null, `could not save ${list.path}: ${(error as Error).message}`);
      }
      return reply(200);
    default:
      try {
        return list.delete(address) ? reply(200) : reply(404);
      } catch (error) {
        return reply(500, null, `could not save ${list.path}: ${(error as Error).message}`);
      }
  }
}
