// Percent-decoding of query strings and urlencoded bodies to bytes (form-decode.ts), as the Go
// original read them: escapes that are not UTF-8 are those bytes.

import { describe, expect, test } from "bun:test";
import { decodeFormValue, formValue, parseForm } from "../../src/transport/http/form-decode.ts";
import { seededRandom } from "../helpers/random.ts";

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

  test("decodeFormValue - long stretches between escapes stay linear when no + or no % is left", () => {
    const stretch = "x".repeat(100);
    for (const text of [`${stretch}%41`.repeat(100_000), `${stretch}+`.repeat(100_000)]) {
      const started = performance.now();
      const decoded = decodeFormValue(text);
      expect(performance.now() - started).toBeLessThan(1000); // tens of ms; searching to the end each time took 7 s
      expect(decoded.length).toBe(100_000 * 101);
      expect(decoded[100]).toBe(text.endsWith("+") ? 0x20 : 0x41);
    }
  });

  test("decodeFormValue - the same bytes as the first implementation (kept below) on random text", () => {
    const seed = Date.now() >>> 0;
    const random = seededRandom(seed);
    const pick = <T>(from: readonly T[]): T => from[Math.floor(random() * from.length)]!;
    const hex = "0123456789abcdefABCDEF";
    const plain = [
      () => "abcdefghijklmnopqrstuvwxyz0123456789-_.~=&?/".slice(0, 1 + Math.floor(random() * 44)).repeat(1 + Math.floor(random() * 3)), // ASCII stretches, some past 64
      () => String.fromCharCode(Math.floor(random() * 128)), // any ASCII, % and + among them
      () => String.fromCharCode(0x80 + Math.floor(random() * 0x780)), // 2 bytes of UTF-8
      () => String.fromCharCode(0x800 + Math.floor(random() * 0xd000)), // 3 bytes (below the surrogates)
      () => String.fromCharCode(0xe000 + Math.floor(random() * 0x2000)), // 3 bytes (above them)
      () => String.fromCodePoint(0x10000 + Math.floor(random() * 0x100000)), // a surrogate pair: 4 bytes
      () => String.fromCharCode(0xd800 + Math.floor(random() * 0x800)), // a lone surrogate, high or low
    ];
    const special = [
      () => "%" + pick([...hex]) + pick([...hex]),
      () => pick(["%", "%4", "%G1", "%4g", "%%", "%+1", "%é1", "%\ud800", "%\udc00"]),
      () => "+",
    ];
    for (let round = 0; round < 3000; round++) {
      const specialRate = random() * random(); // from none to half the pieces
      let text = "";
      const length = Math.floor(random() * 60);
      for (let k = 0; k < length; k++) text += pick(random() < specialRate ? special : plain)();
      const plusIsSpace = random() < 0.8;
      const got = decodeFormValue(text, plusIsSpace);
      const want = firstDecodeFormValue(text, plusIsSpace);
      if (!Buffer.from(got).equals(Buffer.from(want))) {
        throw new Error(`seed ${seed}, round ${round}: ${JSON.stringify(text)} gave ${Buffer.from(got).toString("hex")}, not ${Buffer.from(want).toString("hex")}`);
      }
    }
  });
});

/** The first decodeFormValue (slices and encodeInto per stretch between escapes), as the oracle. */
function firstDecodeFormValue(text: string, plusIsSpace: boolean): Uint8Array {
  const hexValue = (c: number) => (c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1);
  const encoder = new TextEncoder();
  const out = new Uint8Array(text.length * 3);
  let length = 0;
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    let byte: number;
    let next = i + 1;
    if (c === 37 && i + 2 < text.length && hexValue(text.charCodeAt(i + 1)) >= 0 && hexValue(text.charCodeAt(i + 2)) >= 0) {
      byte = hexValue(text.charCodeAt(i + 1)) * 16 + hexValue(text.charCodeAt(i + 2));
      next = i + 3;
    } else if (c === 43 && plusIsSpace) byte = 32;
    else continue;
    if (run < i) length += encoder.encodeInto(text.slice(run, i), out.subarray(length)).written;
    out[length++] = byte;
    run = next;
    i = next - 1;
  }
  if (run < text.length) length += encoder.encodeInto(run === 0 ? text : text.slice(run), out.subarray(length)).written;
  return out.slice(0, length);
}
