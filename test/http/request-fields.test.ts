// The readers of request fields: first values of repeated query fields and JSON members.

import { describe, expect, test } from "bun:test";
import { firstMembers, queryFields, topLevelCommas } from "../../src/transport/http/request-fields.ts";

const first = (text: string) => firstMembers(text, JSON.parse(text) as Record<string, unknown>);

describe("request fields", () => {
  test("query - a repeated field counts with its first value; a malformed escape is kept as sent", () => {
    expect({ ...queryFields("http://h/data/?key=a+b&key=c&c%6Dd=get&cmd=set&bad=%ZZ&flag") }).toEqual({ key: "a b", cmd: "get", bad: "%ZZ", flag: "" });
    expect({ ...queryFields("http://h/data/") }).toEqual({});
  });

  test("json - a repeated member counts with its first value, at the top level only", () => {
    expect(first('{"a":1,"a":2}')).toEqual({ a: 1 });
    // strings holding quotes, escapes and brackets; nested objects with the same names
    expect(first(' { "a" : "x\\"}," , "b":{"a":[1,{"c":"]"}]}, "a":"y", "b":2 } ')).toEqual({ a: 'x"},', b: { a: [1, { c: "]" }] } });
    expect(first('{"x":"\\\\","x":"z"}')).toEqual({ x: "\\" });
    expect(first('{"k\\u0065y":"k1","key":"k2"}')).toEqual({ key: "k1" }); // names compared decoded
    expect(first('{"a":[],"a":[1],"b":null}')).toEqual({ a: [], b: null });
    expect(first("{}")).toEqual({});
  });

  test("json - a repeated __proto__ stays a plain member, never the prototype", () => {
    const fields = first('{"__proto__":{"a":1},"__proto__":5}');
    expect(Object.getPrototypeOf(fields)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(fields, "__proto__")?.value).toEqual({ a: 1 });
  });

  test("json - top-level commas are counted up to the cap, in any text", () => {
    expect(topLevelCommas('{"a":1,"b":[1,2,3],"c":{"d":1,"e":2},"f":"x,y\\",\"g\":1"}', 100)).toBe(3);
    expect(topLevelCommas(`{${'"a":1,'.repeat(1000)}"z":1}`, 10)).toBe(10);
    expect(topLevelCommas('{"a":1,"b":"never closes, ,', 100)).toBe(1);
    expect(topLevelCommas('{"a":"\\\\"}', 100)).toBe(0);
    expect(topLevelCommas("", 10)).toBe(0);
    expect(topLevelCommas("]]]],,,[", 10)).toBe(0);
  });
});
