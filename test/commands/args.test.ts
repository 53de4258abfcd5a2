import { describe, expect, test } from "bun:test";
import { parseAtoi } from "../../src/commands/args.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

describe("parseAtoi (Go's strconv.Atoi)", () => {
  test("parseAtoi - a sign, digits and leading zeros are accepted", () => {
    const valid: [string, number][] = [["5", 5], ["+5", 5], ["-5", -5], ["05", 5], ["+007", 7], ["0", 0], ["-0", 0], ["+0", 0], ["00000000000000000000000042", 42], ["9007199254740991", 9007199254740991]];
    for (const [text, value] of valid) expect(parseAtoi(bytes(text)), text).toBe(value);
  });

  test("parseAtoi - anything else is undefined", () => {
    const invalid = ["", "+", "-", " 5", "5 ", "5s", "0x5", "1_0", "+-5", "--5", "1.5", "1e3", "٥", "9007199254740993"];
    for (const text of invalid) expect(parseAtoi(bytes(text)), text).toBeUndefined();
  });
});
