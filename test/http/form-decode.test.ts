// Percent-decoding of query strings and urlencoded bodies to bytes (form-decode.ts), as the Go
// original read them: escapes that are not UTF-8 are those bytes.

import { describe, expect, test } from "bun:test";
import { decodeFormValue, formValue, parseForm } from "../../src/transport/http/form-decode.ts";

const bytes = (...values: number[]) => new Uint8Array(values);
const utf8 = (text: string) => new TextEncoder().encode(text);

describe("form decoding", () => {
  test("decodeFormValue - %XX is that byte, UTF-8 or not; + is a space; other characters are UTF-8", () => {
    expect(decodeFormValue("%FF%FE%00")).toEqual(bytes(0xff, 0xfe, 0x00));
    expect(decodeFormValue("%ff%fE")).toEqual(bytes(0xff, 0xfe));
    expect(decodeFormValue("a+b%2B%20c")).toEqual(utf8("a b+ c"));
    expect(decodeFormValue("a+b", false)).toEqual(utf8("a+b"));
    expect(decodeFormValue("é✓😀%C3%A9")).toEqual(utf8("é✓😀é"));
    expect(decodeFormValue("")).toEqual(bytes());
    expect(decodeFormValue("plain")).toEqual(utf8("plain"));
    expect(decodeFormValue("\ud800x")).toEqual(bytes(0xef, 0xbf, 0xbd, 0x78)); // a lone surrogate: U+FFFD, as TextEncoder
  });

  test("decodeFormValue - a malformed escape is kept as it is, with what follows", () => {
    expect(decodeFormValue("%G1")).toEqual(utf8("%G1"));
    expect(decodeFormValue("a%")).toEqual(utf8("a%"));
    expect(decodeFormValue("a%F")).toEqual(utf8("a%F"));
    expect(decodeFormValue("%%41%4")).toEqual(utf8("%A%4"));
    expect(decodeFormValue("%20%ZZ%FF")).toEqual(bytes(0x20, 0x25, 0x5a, 0x5a, 0xff));
  });

  test("formValue - UTF-8 values are text; others carry their bytes beside a lossy text", () => {
    expect(formValue("a+%E2%9C%93")).toEqual({ text: "a ✓" });
    expect(formValue("no-escapes")).toEqual({ text: "no-escapes" });
    expect(formValue("%FF%FE%00")).toEqual({ text: "\ufffd\ufffd\0", bytes: bytes(0xff, 0xfe, 0x00) });
    expect(formValue("%EF%BB%BFbom")).toEqual({ text: "\ufeffbom" }); // a BOM is a character, kept
  });

  test("parseForm - first values, empty values, bytes of the values that are not UTF-8", () => {
    const { fields, bytes: raw } = parseForm("cmd=set&key=%FFk&key=second&valuedata=%FE%00&flag&&=anon&c%6Dd=get&v=%E2%9C%93");
    expect({ ...fields }).toEqual({ cmd: "set", key: "\ufffdk", valuedata: "\ufffd\0", flag: "", "": "anon", v: "✓" });
    expect(raw).toEqual(new Map([["key", bytes(0xff, 0x6b)], ["valuedata", bytes(0xfe, 0x00)]]));
    expect(parseForm("a=1&b=2").bytes).toBeUndefined();
    expect({ ...parseForm("").fields }).toEqual({});
  });

  test("parseForm - a repeat is not decoded, even when it is not UTF-8; __proto__ is a plain field", () => {
    const { fields, bytes: raw } = parseForm("key=a&key=%FF&__proto__=x");
    expect(raw).toBeUndefined();
    expect(fields.key).toBe("a");
    expect(Object.getOwnPropertyDescriptor(fields, "__proto__")?.value).toBe("x");
  });
});
