// Merges what every node said about one key into the group answer (SPEC §7): holders newest
// first by time of last write, ties by address so the order is stable; failures after them.

import { ZERO_TIME } from "../protocol/envelope.ts";
import type { PeerOutcome } from "./peer-answer.ts";

export interface GroupEntry {
  Address: string;
  Data: string | null;
  KeyCreateTime: string;
  Status: 200 | 500;
  Message?: string;
}

export interface NodeAnswer {
  readonly address: string;
  readonly outcome: PeerOutcome;
}

export interface GroupResult {
  readonly status: 200 | 404 | 500;
  readonly entries: GroupEntry[];
  readonly message?: string;
}

function byAddress(a: NodeAnswer, b: NodeAnswer): number {
  return a.address < b.address ? -1 : a.address > b.address ? 1 : 0;
}

export function mergeAnswers(answers: readonly NodeAnswer[]): GroupResult {
  const holders: { answer: NodeAnswer; writtenAt: number; data: string; time: string }[] = [];
  const failures: NodeAnswer[] = [];
  for (const answer of answers) {
    const o = answer.outcome;
    if (o.kind === "value") holders.push({ answer, writtenAt: o.writtenAt, data: o.data, time: o.keyCreateTime });
    else if (o.kind === "failed") failures.push(answer);
  }
  holders.sort((a, b) => b.writtenAt - a.writtenAt || byAddress(a.answer, b.answer));
  failures.sort(byAddress);
  const entries: GroupEntry[] = holders.map((h) => ({ Address: h.answer.address, Data: h.data, KeyCreateTime: h.time, Status: 200 }));
  for (const f of failures) {
    const message = f.outcome.kind === "failed" ? f.outcome.message : "";
    entries.push({ Address: f.address, Data: null, KeyCreateTime: ZERO_TIME, Status: 500, Message: message });
  }
  if (holders.length > 0) return { status: 200, entries };
  if (failures.length === 0) return { status: 404, entries };
  const n = failures.length;
  return { status: 404, entries, message: `not found on any node that answered; ${n} ${n === 1 ? "node" : "nodes"} did not answer` };
}
