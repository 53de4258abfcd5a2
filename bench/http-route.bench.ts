// Micro-benchmark of the GET /data/ hot path in process: query split, engine, envelope Response
// (encoded, or memoised), beside the constant Response a bare Bun.serve answers.
// `bun run bench/http-route.bench.ts`

import { bench, run, summary } from "mitata";
import { makeApp } from "../test/http/app-fixture.ts";
import { runDataCommand } from "../src/transport/http/data-command.ts";
import { EnvelopeMemo } from "../src/transport/http/envelope-memo.ts";
import { answerQuery, plainQuery } from "../src/transport/http/fast-get.ts";

const { engine, tokens, keyspace } = makeApp();
keyspace.set(new TextEncoder().encode("hello"), new TextEncoder().encode("world"));
const plain = { engine, tokens, responseHost: "127.0.0.1:7721" };
const memoised = { ...plain, memo: new EnvelopeMemo() };
const url = "http://127.0.0.1:7721/data/?cmd=get&key=hello";
const request = new Request(url);
const constant = JSON.stringify({ Cmd: "get", Status: 200, Results: "SUCCESS", Key: "hello", Data: "world", ResponseHost: "127.0.0.1:7721", KeyCreateTime: "2026-11-26T10:00:00.000Z" });
const headers = { "content-type": "application/json; charset=utf-8", "x-content-type-options": "nosniff" };
const client = () => "127.0.0.1";

summary(() => {
  bench("bare: constant Response", () => new Response(constant, { status: 200, headers }));
  bench("owlcache get, envelope encoded", () => answerQuery(plain, request, client));
  bench("owlcache get, envelope memoised", () => answerQuery(memoised, request, client));
  bench("owlcache get through runDataCommand (general path), memoised", () => runDataCommand(memoised, request, client, plainQuery(url)!));
  bench("plainQuery only", () => plainQuery(url));
});
await run();
