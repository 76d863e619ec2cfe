// JsonStreamScanner: message boundaries found by depth and string tracking, whatever the
// chunking. Inputs are byte literals written by hand, not output of our encoder.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { FramingError, JsonStreamScanner } from "../../../ovsdb/index.ts";

const STREAM = [
  '{"id":1,"result":["Open_vSwitch"],"error":null}',
  '{"id":null,"method":"update2","params":["m1",{"Bridge":{"0c1d":{"modify":{"name":"br-}{\\"x\\"\\\\"}}}}]}',
  '{"method":"echo","id":"echo","params":[]}',
  '{"id":2,"result":[{"details":"caf\\u00e9 \\\\ \\" ]","error":"x"}],"error":null}',
  '{"s":"é ∑ 🙂","t":"\\\\"}',
];

function scanAll(chunks: Buffer[]): string[] {
  const scanner = new JsonStreamScanner();
  return chunks.flatMap((chunk) => scanner.push(chunk));
}

test("several objects in one chunk", () => {
  assert.deepEqual(scanAll([Buffer.from(STREAM.join(""))]), STREAM);
});

test("whitespace between objects", () => {
  assert.deepEqual(scanAll([Buffer.from(STREAM.join("\n \t\r\n"))]), STREAM);
});

test("split at every byte offset", () => {
  const bytes = Buffer.from(STREAM.join(""));
  for (let offset = 0; offset <= bytes.length; offset++) {
    const texts = scanAll([bytes.subarray(0, offset), bytes.subarray(offset)]);
    assert.deepEqual(texts, STREAM, `split at byte ${offset}`);
  }
});

test("one byte per chunk", () => {
  const bytes = Buffer.from(STREAM.join(""));
  const chunks = Array.from(bytes, (byte) => Buffer.from([byte]));
  assert.deepEqual(scanAll(chunks), STREAM);
});

test("each text parses as JSON", () => {
  for (const text of scanAll([Buffer.from(STREAM.join(""))])) {
    assert.doesNotThrow(() => JSON.parse(text), text);
  }
  const parsed = JSON.parse(STREAM[1] as string) as { params: [string, { Bridge: { "0c1d": { modify: { name: string } } } }] };
  assert.equal(parsed.params[1].Bridge["0c1d"].modify.name, 'br-}{"x"\\');
});

test("big reply across many chunks", () => {
  const rows = Array.from({ length: 20_000 }, (_, i) => `"${i}":{"initial":{"name":"p${i}","note":"{[\\"]}"}}`);
  const big = `{"id":7,"result":{"Interface":{${rows.join(",")}}},"error":null}`;
  const bytes = Buffer.from(big + STREAM[0]);
  assert.ok(bytes.length > 1_000_000);
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += 65_536) chunks.push(bytes.subarray(offset, offset + 65_536));
  const scanner = new JsonStreamScanner();
  const texts = chunks.flatMap((chunk) => scanner.push(chunk));
  assert.equal(texts.length, 2);
  assert.equal(texts[0], big);
  assert.equal(texts[1], STREAM[0]);
  assert.equal(scanner.bufferedBytes, 0);
});

test("partial message is kept", () => {
  const scanner = new JsonStreamScanner();
  assert.deepEqual(scanner.push(Buffer.from('{"id":1,"res')), []);
  assert.equal(scanner.bufferedBytes, 12);
  assert.deepEqual(scanner.push(Buffer.from('ult":[]}')), ['{"id":1,"result":[]}']);
});

test("garbage between messages is rejected", () => {
  const scanner = new JsonStreamScanner();
  assert.throws(() => scanner.push(Buffer.from('{"a":1}x{"b":2}')), FramingError);
});

test("oversized message is rejected", () => {
  const scanner = new JsonStreamScanner({ maxMessageBytes: 10 });
  assert.throws(() => scanner.push(Buffer.from('{"a":"0123456789"}')), /exceeds 10 bytes/);
});

test("random objects, random splits", () => {
  // JSON.stringify is the independent source here: the scanner must return its output unchanged.
  const message = fc.dictionary(fc.string({ unit: "binary" }), fc.jsonValue()).map((value) => JSON.stringify(value));
  fc.assert(
    fc.property(fc.array(message, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 6 }), (texts, cuts) => {
      const bytes = Buffer.from(texts.join(""));
      const offsets = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
      const chunks: Buffer[] = [];
      let previous = 0;
      for (const offset of [...offsets, bytes.length]) {
        chunks.push(bytes.subarray(previous, offset));
        previous = offset;
      }
      assert.deepEqual(scanAll(chunks), texts);
    }),
    { numRuns: 300 },
  );
});
