// Exact JSON text: the grammar JSON.parse accepts, laid out as JSON.stringify lays it out, numbers as sent.
import { describe, expect } from "vitest";
import { fc, test } from "@fast-check/vitest";
import { formatJsonText, MAX_JSON_DEPTH } from "../../src/cli/json-text.js";
import { readTextBody } from "../../src/cli/profiles/body.js";

const accepts = (text: string): boolean => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

describe("formatJsonText", () => {
  test.prop([fc.jsonValue({ maxDepth: 6 })])("canonical JSON: compact is itself, indented is JSON.stringify(…, null, 2)", (value) => {
    const text = JSON.stringify(value);
    expect(formatJsonText(text)).toBe(text);
    expect(formatJsonText(text, 2)).toBe(JSON.stringify(JSON.parse(text), null, 2));
    expect(formatJsonText(JSON.stringify(value, null, 3))).toBe(text); // white space anywhere it may be
  });
  test.prop([fc.string({ unit: fc.constantFrom(..."{}[],:\" 0123-.eE+tfnrul\\xa\t\n"), maxLength: 40 })], { numRuns: 2000 })(
    "accepts exactly what JSON.parse accepts",
    (text) => {
      expect([text, formatJsonText(text) !== undefined]).toEqual([text, accepts(text)]);
    },
  );
  test("numbers stay as sent: integers past 2^53, trailing zeros, exponents", () => {
    expect(formatJsonText('{"trigger_time":1626324623404263213}', 2)).toBe('{\n  "trigger_time": 1626324623404263213\n}');
    expect(formatJsonText("[1.50, -0, 1E+2, 12345678901234567890123]")).toBe("[1.50,-0,1E+2,12345678901234567890123]");
  });
  test("keys in the order sent, duplicates kept; strings written as JSON.stringify writes them", () => {
    expect(formatJsonText('{"b":1,"1":2,"b":3}')).toBe('{"b":1,"1":2,"b":3}');
    expect(formatJsonText('["\\u00e9\\/", "\\ud800"]')).toBe(`[${JSON.stringify("é/")},${JSON.stringify("\ud800")}]`);
  });
  test(`nesting deeper than ${MAX_JSON_DEPTH} is not JSON here (it stays text)`, () => {
    const nest = (n: number): string => "[".repeat(n) + "]".repeat(n);
    expect(formatJsonText(nest(MAX_JSON_DEPTH))).toBe(nest(MAX_JSON_DEPTH));
    expect(formatJsonText(nest(MAX_JSON_DEPTH + 1))).toBeUndefined();
    const body = new TextEncoder().encode(nest(MAX_JSON_DEPTH + 1));
    expect(readTextBody(body)).toEqual({ kind: "text", text: nest(MAX_JSON_DEPTH + 1) });
  });
});
