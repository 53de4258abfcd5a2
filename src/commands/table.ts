// The one command table: every command of every dialect, registered explicitly.

import { owlConnectionCommands } from "./owl-connection.ts";
import { owlKeyCommands } from "./owl-keys.ts";
import type { CommandSpec } from "./spec.ts";

export const commandTable: readonly CommandSpec[] = [...owlKeyCommands, ...owlConnectionCommands];
