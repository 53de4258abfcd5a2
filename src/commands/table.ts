// The one command table: every command of every dialect, registered explicitly.

import { owlConnectionCommands } from "./owl-connection.ts";
import { owlKeyCommands } from "./owl-keys.ts";
import { redisConnectionCommands } from "./redis-connection.ts";
import { redisKeyCommands } from "./redis-keys.ts";
import { redisServerCommands } from "./redis-server.ts";
import { redisStringCommands } from "./redis-strings.ts";
import type { CommandSpec } from "./spec.ts";

export const commandTable: readonly CommandSpec[] = [
  ...owlKeyCommands,
  ...owlConnectionCommands,
  ...redisStringCommands,
  ...redisKeyCommands,
  ...redisConnectionCommands,
  ...redisServerCommands,
];
