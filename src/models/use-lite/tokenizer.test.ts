import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { TokenizerError } from '../io/errors.js';
import { useLitePackageDir } from './load.js';
import { loadPackageTokenizer } from './oracle.js';
import { colaDev, MISSING_DATA_MESSAGE, mrpcDev, rteDev, sst2Dev } from './test-sentences.js';
import { normalizeUseLite, PAD_ID, SEP_ID, UseLiteTokenizer } from './tokenizer.js';

const ours = UseLiteTokenizer.fromFile(join(useLitePackageDir(), 'vocab.json'));
const theirs = loadPackageTokenizer();

function assertSameIds(texts: readonly string[], what: string): void {
  let mismatches = 0;
  let first = '';
  for (const t of texts) {
    const a = ours.encodeIds(t);
    const b = theirs.encode(t);
    if (a.length !== b.length || a.some((x, i) => x !== b[i])) {
      if (mismatches++ === 0) first = `${JSON.stringify(t)}: ours ${JSON.stringify(a)} vs package ${JSON.stringify(b)}`;
    }
  }
  assert.equal(mismatches, 0, `${what}: ${mismatches}/${texts.length} differ; first: ${first}`);
}

test('ids equal the package tokenizer on real GLUE sentences (SST-2, CoLA, RTE, MRPC dev)', (t) => {
  const sets = { sst2: sst2Dev(), cola: colaDev(), rte: rteDev(), mrpc: mrpcDev() };
  if (Object.values(sets).some((s) => s === null)) {
    t.skip(MISSING_DATA_MESSAGE);
    return;
  }
  let n = 0;
  for (const [name, texts] of Object.entries(sets)) {
    assertSameIds(texts!, name);
    n += texts!.length;
  }
  assert.ok(n > 3000);
});

// Each line targets one rule of the package's algorithm (see tokenizer.ts).
const EDGE_CASES = [
  '',
  ' ',
  '  ',
  'a',
  ' leading and trailing ',
  'double  space',
  'tab\tand\nnewline\r\n',
  'Hello World',
  'UPPER lower MiXeD',
  "it 's n't", // no lowercasing, SST-2 style
  'ﬁne ｆｕｌｌｗｉｄｔｈ ½ ①',
  'e\u0301te\u0301', // NFKC folds and composes
  'time: 10:00 :) :( :-) http://x.org', // pieces with a null score, and ':00' (score 0)
  '”5 ”5”5', // a piece listed three times in vocab.json
  'naïve 日本語 Ελληνικά русский',
  'zzzz qqqq xxxx', // unknown characters and runs of them
  '😀 emoji 👍🏽 𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
  '\uFFFD',
  '▁▁ already▁marked', // astral code points, U+FFFD, literal ▁
  'a'.repeat(300),
  'word '.repeat(200), // long inputs (clipping is the graph's business, not encode's)
];

test('ids equal the package tokenizer on edge cases', () => {
  assertSameIds(EDGE_CASES, 'edge cases');
});

test('ids equal the package tokenizer on 600 seeded random strings', () => {
  let s = 12345;
  const rand = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const pieces = ours.pieces.slice(6);
  const odd = [' ', ' ', ' ', ':', '”', '5', '😀', '\t', 'é', 'e\u0301', 'Ａ', 'ﬁ', '日', '\uFFFD', '▁', 'ï', '.', "'"];
  const texts: string[] = [];
  for (let i = 0; i < 600; i++) {
    const len = Math.floor(rand() * 12);
    let t = '';
    for (let j = 0; j < len; j++)
      t +=
        rand() < 0.6
          ? pieces[Math.floor(rand() * pieces.length)].replace(/▁/g, rand() < 0.8 ? ' ' : '▁')
          : odd[Math.floor(rand() * odd.length)];
    texts.push(t);
  }
  assertSameIds(texts, 'random strings');
});

test('normalisation: NFKC, "▁" prefix, only ASCII spaces become "▁", no lowercasing', () => {
  assert.equal(normalizeUseLite('Ａb ﬁ\tc'), '▁Ab▁fi\tc');
  assert.equal(normalizeUseLite(''), '');
  assert.deepEqual(ours.tokenize('hide new secretions'), ['▁hide', '▁new', '▁secret', 'ions']);
});

test('encode: single text clipped to maxLength (default 128, the graph clip), token types all 0', () => {
  const long = 'word '.repeat(200);
  const e = ours.encode(long);
  assert.equal(e.inputIds.length, 128);
  assert.deepEqual(e.inputIds, ours.encodeIds(long).slice(0, 128));
  assert.deepEqual(e.tokenTypeIds, new Array(128).fill(0));
  assert.deepEqual(ours.encode('a good film', undefined, 2).inputIds, ours.encodeIds('a good film').slice(0, 2));
  assert.equal(ours.padId, PAD_ID);
  assert.ok(!ours.encodeIds(EDGE_CASES.join(' ')).includes(PAD_ID), 'the pad id is never emitted');
});

test('encode: pairs are ids(a) </s> ids(b), truncated longest_first to maxLength in total', () => {
  const a = ours.encodeIds('the cat sat on the mat');
  const b = ours.encodeIds('a cat was sitting');
  assert.deepEqual(ours.encode('the cat sat on the mat', 'a cat was sitting').inputIds, [...a, SEP_ID, ...b]);
  // Budget 7 - 1 separator = 6: a shrinks first while longer, then ties cut the second text.
  const e = ours.encode('the cat sat on the mat', 'a cat was sitting', 7);
  assert.equal(e.inputIds.length, 7);
  assert.deepEqual(e.inputIds, [...a.slice(0, 3), SEP_ID, ...b.slice(0, 3)]);
  const short = ours.encode('yes', 'the cat sat on the mat and then it slept for a long time', 6);
  assert.deepEqual(short.inputIds, [
    ...ours.encodeIds('yes'),
    SEP_ID,
    ...ours.encodeIds('the cat sat on the mat and then it slept for a long time').slice(0, 4),
  ]);
  assert.deepEqual(short.tokenTypeIds, new Array(6).fill(0));
  assert.throws(() => ours.encode('x', undefined, 0), TokenizerError);
  assert.throws(() => ours.encode('x', 'y', 1.5), /maxLength must be an integer/);
});

test('vocab.json problems are typed errors naming the file', () => {
  assert.throws(
    () => UseLiteTokenizer.fromFile('/nonexistent/vocab.json'),
    (e: unknown) => e instanceof TokenizerError && /\/nonexistent\/vocab\.json/.test(e.message),
  );
});
