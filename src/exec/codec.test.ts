import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as c from './codec.js';
import { CodecError, type Codec } from './codec.js';

interface Item {
  name: string;
  size: number;
  tags: string[];
  note?: string;
  scores?: Record<string, number>;
}
const item: Codec<Item> = c.object<Item>({
  name: c.string,
  size: c.number,
  tags: c.array(c.string),
  note: c.optional(c.string),
  scores: c.optional(c.record(c.number)),
});

type Shape = { kind: 'a'; x: number } | { kind: 'b'; flag: boolean; level: 'low' | 'high' };
const shape: Codec<Shape> = c.byKind<Shape>({
  a: c.object<Extract<Shape, { kind: 'a' }>>({ kind: c.literal('a'), x: c.number }),
  b: c.object<Extract<Shape, { kind: 'b' }>>({
    kind: c.literal('b'),
    flag: c.boolean,
    level: c.literal('low', 'high'),
  }),
});

function fails(f: () => unknown, message: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof CodecError, String(e));
    assert.match(e.message, message);
    return true;
  });
}

test('objects round-trip through JSON text; undefined optional keys are left out', () => {
  const v: Item = { name: 'x', size: 3, tags: ['a', 'b'], scores: { accuracy: 0.5 } };
  const json = item.encode({ ...v, note: undefined } as unknown as Item);
  assert.deepEqual(json, { name: 'x', size: 3, tags: ['a', 'b'], scores: { accuracy: 0.5 } });
  assert.deepEqual(item.decode(JSON.parse(JSON.stringify(json)), 'item'), v);
  assert.deepEqual(shape.decode(shape.encode({ kind: 'b', flag: true, level: 'high' }), 's'), {
    kind: 'b',
    flag: true,
    level: 'high',
  });
  // NaN survives the pool's structured-clone IPC (a diverged loss), so the number codec keeps it.
  const nan = shape.decode({ kind: 'a', x: Number.NaN }, 's');
  assert.ok(nan.kind === 'a' && Number.isNaN(nan.x));
});

test('decoding names the path of the first mismatch', () => {
  fails(() => item.decode({ name: 'x', size: '3', tags: [] }, 'args'), /^args\.size: expected a number, got "3"$/);
  fails(
    () => item.decode({ name: 'x', size: 3, tags: ['a', 1] }, 'args'),
    /^args\.tags\[1\]: expected a string, got 1$/,
  );
  fails(() => item.decode({ name: 'x', tags: [] }, 'args'), /^args\.size: expected a value \(required key\)/);
  fails(
    () => item.decode({ name: 'x', size: 3, tags: [], colour: 'red' }, 'args'),
    /^args\.colour: expected no such key \(known: name, size, tags, note, scores\)/,
  );
  fails(() => item.decode([1], 'args'), /^args: expected an object, got \[1\]$/);
  fails(
    () => item.decode({ name: 'x', size: 3, tags: [], scores: { f1: 'high' } }, 'r'),
    /^r\.scores\.f1: expected a number/,
  );
  fails(() => shape.decode({ kind: 'c' }, 'ev'), /^ev\.kind: expected "a" \| "b", got "c"$/);
  fails(
    () => shape.decode({ kind: 'b', flag: true, level: 'mid' }, 'ev'),
    /^ev\.level: expected "low" \| "high", got "mid"$/,
  );
  const metrics = c.record(c.number, ['accuracy', 'f1'] as const);
  assert.deepEqual(metrics.decode({ f1: 0.5 }, 'm'), { f1: 0.5 });
  fails(() => metrics.decode({ bleu: 0.5 }, 'm'), /^m\.bleu: expected no such key/);
});

test('the compiler holds a codec to its type, key by key', () => {
  // @ts-expect-error: 'tags' has no codec
  c.object<Item>({
    name: c.string,
    size: c.number,
    note: c.optional(c.string),
    scores: c.optional(c.record(c.number)),
  });
  c.object<Item>({
    name: c.string,
    size: c.number,
    tags: c.array(c.string),
    // @ts-expect-error: 'note' is optional in Item, so its codec must be optional(...)
    note: c.string,
    scores: c.optional(c.record(c.number)),
  });
  c.object<Item>({
    name: c.string,
    // @ts-expect-error: 'size' is a number
    size: c.string,
    tags: c.array(c.string),
    note: c.optional(c.string),
    scores: c.optional(c.record(c.number)),
  });
});
