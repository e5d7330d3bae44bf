import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJsonl } from './jsonl.js';
import { DataError } from '../errors.js';

test('JSONL: records, BOM, CRLF, blank lines, columns in first-seen order', () => {
  const t = parseJsonl('\uFEFF{"a": 1, "b": "x"}\r\n\r\n{"b": "y", "c": true}\n', 'f.jsonl');
  assert.deepEqual(t.records, [
    { a: 1, b: 'x' },
    { b: 'y', c: true },
  ]);
  assert.deepEqual(t.columns, ['a', 'b', 'c']);
  assert.deepEqual(t.lines, [1, 3]);
});

test('JSONL: bad JSON and non-objects name file:line', () => {
  assert.throws(
    () => parseJsonl('{"a": 1}\n{"a": \n', 'bad.jsonl'),
    (e: unknown) => e instanceof DataError && e.message.startsWith('bad.jsonl:2: invalid JSON'),
  );
  assert.throws(
    () => parseJsonl('{"a": 1}\n\n[1, 2]\n', 'arr.jsonl'),
    (e: unknown) => e instanceof DataError && e.line === 3 && /not an object/.test(e.message),
  );
});

test('JSONL maxRows', () => {
  assert.equal(parseJsonl('{"a":1}\n{"a":2}\n{"a":3}', 'm.jsonl', { maxRows: 2 }).records.length, 2);
});
