import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HfTokenizer, truncateLongestFirst } from './hf.js';
import { parseVocabTxt, wordPieceTokenizerJson } from './wordpiece.js';
import { byteLevelBpeTokenizerJson, bytesToUnicode } from './bpe.js';
import { loadTokenizer } from './load.js';
import { simpleBpe, tinyBertVocab, tinyBpe } from '../testing/tiny.js';
import { TokenizerError } from '../io/errors.js';

const VOCAB = new URL('../../../../shared/data/vocab/bert-base-uncased-vocab.txt', import.meta.url).pathname;
const SST2 = new URL('../../../../shared/data/glue/sst2/dev.tsv', import.meta.url).pathname;
const haveVocab = existsSync(VOCAB);
const skipVocab = haveVocab ? false : `real BERT vocab not found at ${VOCAB} (see ../shared/data/README.md)`;

/** Independent WordPiece oracle for plain ASCII text: lowercase, split on spaces/punctuation, greedy longest match. */
function oracleWordPiece(text: string, ids: Map<string, number>): number[] {
  const words = text.toLowerCase().match(/[a-z0-9]+|[!-/:-@[-`{-~]/g) ?? [];
  const out: number[] = [];
  for (const w of words) {
    const pieces: number[] = [];
    let start = 0;
    let bad = false;
    while (start < w.length) {
      let end = w.length;
      let found: number | undefined;
      for (; end > start; end--) {
        found = ids.get((start > 0 ? '##' : '') + w.slice(start, end));
        if (found !== undefined) break;
      }
      if (found === undefined) {
        bad = true;
        break;
      }
      pieces.push(found);
      start = end;
    }
    out.push(...(bad ? [ids.get('[UNK]')!] : pieces));
  }
  return out;
}

test('WordPiece from the real bert-base-uncased vocab.txt: known tokenisations, ids = line numbers', {
  skip: skipVocab,
}, () => {
  const vocab = parseVocabTxt(readFileSync(VOCAB, 'utf8'));
  assert.equal(vocab.length, 30522);
  const tok = new HfTokenizer(wordPieceTokenizerJson(vocab), {}, { file: VOCAB });
  const id = (t: string): number => vocab.indexOf(t);
  assert.equal(tok.vocabSize, 30522);
  assert.equal(tok.padId, 0);
  assert.deepEqual([id('[PAD]'), id('[UNK]'), id('[CLS]'), id('[SEP]'), id('[MASK]')], [0, 100, 101, 102, 103]);
  // Greedy longest match: "una" is in the vocab, so "unaffable" is una ##ffa ##ble here (the
  // BERT README's "un ##aff ##able" came from a different vocabulary).
  assert.deepEqual(tok.tokenize('unaffable'), ['una', '##ffa', '##ble']);
  assert.deepEqual(tok.tokenize('Hello, world!'), ['hello', ',', 'world', '!']);
  const e = tok.encode('Hello, world!');
  assert.deepEqual(e.inputIds, [101, id('hello'), id(','), id('world'), id('!'), 102]);
  assert.deepEqual(e.inputIds, [101, 7592, 1010, 2088, 999, 102]);
  assert.deepEqual(e.tokenTypeIds, [0, 0, 0, 0, 0, 0]);
  // Accents stripped and lowercased; CJK split per character; zero-width space removed.
  assert.deepEqual(tok.tokenize('Héllo WORLD  naïve café'), ['hello', 'world', 'naive', 'cafe']);
  assert.deepEqual(tok.tokenize('日本'), ['日', '本']);
  assert.deepEqual(tok.tokenize('a\u200bb'), ['ab']);
  assert.deepEqual(tok.tokenize("don't"), ['don', "'", 't']);
  // Special tokens written in the text are recognised, not split.
  assert.deepEqual(tok.encode('[MASK] x').inputIds, [101, 103, id('x'), 102]);
  // Unknown word.
  assert.deepEqual(tok.tokenize('\u2603'), ['[UNK]']);
  // Pair: [CLS] A [SEP] B [SEP] with types 0 .. 0 1 .. 1.
  const p = tok.encode('Hello, world!', 'unaffable');
  assert.deepEqual(p.inputIds, [101, 7592, 1010, 2088, 999, 102, id('una'), id('##ffa'), id('##ble'), 102]);
  assert.deepEqual(p.tokenTypeIds, [0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
  // Truncation, longest first: A has 4 tokens, B 3, budget 8 - 3 specials = 5. Shorter n1 = 3,
  // n2 = max(3, 5 - 3) = 3; 3 + 3 > 5 so n1 = 5 / 2 = 2 and n2 = 2 + 1: A (longer) keeps 3, B 2.
  const t = tok.encode('Hello, world!', 'unaffable', 8);
  assert.deepEqual(t.inputIds, [101, 7592, 1010, 2088, 102, id('una'), id('##ffa'), 102]);
  assert.deepEqual(t.tokenTypeIds, [0, 0, 0, 0, 0, 1, 1, 1]);
  assert.deepEqual(tok.encode('Hello, world!', undefined, 4).inputIds, [101, 7592, 1010, 102]);
  assert.throws(
    () => tok.encode('a', 'b', 2),
    (err: unknown) => err instanceof TokenizerError && /cannot hold the 3 special tokens/.test(err.message),
  );
});

test('WordPiece matches an independent greedy oracle on real SST-2 dev sentences', {
  skip: skipVocab || (existsSync(SST2) ? false : `SST-2 dev not found at ${SST2}`),
}, () => {
  const vocab = parseVocabTxt(readFileSync(VOCAB, 'utf8'));
  const ids = new Map(vocab.map((t, i) => [t, i]));
  const tok = new HfTokenizer(wordPieceTokenizerJson(vocab));
  const lines = readFileSync(SST2, 'utf8')
    .split('\n')
    .slice(1, 301)
    .map((l) => l.split('\t')[0]!)
    .filter((s) => s && /^[\x20-\x7e]*$/.test(s));
  assert.ok(lines.length > 200);
  for (const s of lines) assert.deepEqual(tok.encode(s).inputIds, [101, ...oracleWordPiece(s, ids), 102], s);
});

test('cased vocab: do_lower_case=false keeps case and accents', () => {
  const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'Hello', 'hello', 'café', 'cafe'];
  const cased = new HfTokenizer(wordPieceTokenizerJson(vocab, { lowercase: false }));
  assert.deepEqual(cased.tokenize('Hello hello café'), ['Hello', 'hello', 'café']);
  const uncased = new HfTokenizer(wordPieceTokenizerJson(vocab));
  assert.deepEqual(uncased.tokenize('Hello café'), ['hello', 'cafe']);
  assert.throws(() => wordPieceTokenizerJson(['[PAD]', 'a']), /no \[UNK\] token/);
});

test('parseVocabTxt: CRLF, final newline, empty-token lines kept in place', () => {
  assert.deepEqual(parseVocabTxt('[PAD]\r\n[UNK]\r\nx\r\n'), ['[PAD]', '[UNK]', 'x']);
  assert.deepEqual(parseVocabTxt('a\nb'), ['a', 'b']);
  assert.deepEqual(parseVocabTxt('a\n\nb\n'), ['a', '', 'b']);
});

test('longest_first truncation follows the Hugging Face rule', () => {
  const r = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
  const cases: Array<[number, number, number, number, number]> = [
    // [len a, len b, budget, kept a, kept b]
    [5, 5, 7, 3, 4],
    [2, 10, 7, 2, 5],
    [10, 2, 7, 5, 2],
    [6, 5, 7, 4, 3],
    [10, 12, 7, 3, 4],
    [3, 3, 6, 3, 3],
    [4, 4, 0, 0, 0],
    [1, 9, 4, 1, 3],
  ];
  for (const [la, lb, budget, ka, kb] of cases) {
    const [a, b] = truncateLongestFirst(r(la), r(lb), budget);
    assert.deepEqual([a.length, b!.length], [ka, kb], `${la},${lb},${budget}`);
    assert.deepEqual(a, r(ka)); // cut from the end
  }
  assert.deepEqual(truncateLongestFirst(r(5), undefined, 3)[0], [0, 1, 2]);
});

test('byte-level BPE (RoBERTa): tokens, <s> A </s></s> B </s>, all type ids 0, truncation', () => {
  const { vocab, merges } = tinyBpe();
  const tok = new HfTokenizer(
    byteLevelBpeTokenizerJson(vocab, merges, { unkToken: '<unk>' }),
    {},
    { typeVocabSize: 1 },
  );
  assert.equal(tok.padId, 1);
  assert.equal(tok.vocabSize, Object.keys(vocab).length);
  assert.deepEqual(tok.tokenize('hello world'), ['hello', 'Ġworld']);
  assert.deepEqual(tok.tokenize('the movie is good'), ['the', 'Ġmovie', 'Ġis', 'Ġgood']);
  // Unseen word: falls back to smaller pieces; bytes always exist, so nothing is unknown.
  const pieces = tok.tokenize('hellx wörld');
  assert.equal(pieces.join(''), 'hellxĠwÃ¶rld');
  const ranks = new Map(merges.map((m, i) => [m, i]));
  const b2u = bytesToUnicode();
  const enc = new TextEncoder();
  const oracle = (word: string): string[] =>
    simpleBpe(
      Array.from(enc.encode(word), (x) => b2u[x]!),
      ranks,
    );
  assert.deepEqual(pieces, [...oracle('hellx'), ...oracle(' wörld')]);
  const e = tok.encode('hello world', 'the movie');
  const v = (t: string): number => vocab[t]!;
  assert.deepEqual(e.inputIds, [0, v('hello'), v('Ġworld'), 2, 2, v('the'), v('Ġmovie'), 2]);
  assert.deepEqual(e.tokenTypeIds, [0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(tok.encode('hello world').inputIds, [0, v('hello'), v('Ġworld'), 2]);
  // 4 specials for a pair: budget 6 - 4 = 2 -> one token each.
  assert.deepEqual(tok.encode('hello world', 'the movie', 6).inputIds, [0, v('hello'), 2, 2, v('the'), 2]);
  assert.deepEqual(tok.decode(e.inputIds), 'hello worldthe movie');
});

test('BPE oracle agreement on random strings over the tiny alphabet', () => {
  const { vocab, merges } = tinyBpe();
  const tok = new HfTokenizer(byteLevelBpeTokenizerJson(vocab, merges));
  const ranks = new Map(merges.map((m, i) => [m, i]));
  const b2u = bytesToUnicode();
  const enc = new TextEncoder();
  let s = 12345;
  const rnd = (n: number): number => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s % n;
  };
  const alphabet = 'thisgodmvelarwfunyp';
  for (let k = 0; k < 200; k++) {
    const words = Array.from({ length: 1 + rnd(4) }, () =>
      Array.from({ length: 1 + rnd(7) }, () => alphabet[rnd(alphabet.length)]).join(''),
    );
    const text = words.join(' ');
    const want = words.flatMap((w, i) =>
      simpleBpe(
        Array.from(enc.encode((i > 0 ? ' ' : '') + w), (x) => b2u[x]!),
        ranks,
      ),
    );
    assert.deepEqual(tok.tokenize(text), want, text);
  }
});

test('a template whose type ids exceed type_vocab_size is rejected; a non-tokenizer JSON too', () => {
  const vocab = tinyBertVocab();
  assert.throws(
    () => new HfTokenizer(wordPieceTokenizerJson(vocab), {}, { typeVocabSize: 1, file: 'x/tokenizer.json' }),
    /type id 1 but the model has type_vocab_size 1/,
  );
  assert.throws(() => new HfTokenizer({ nope: 1 }), /not a tokenizer.json/);
});

test('loadTokenizer: tokenizer.json, vocab.txt (+do_lower_case), vocab.json+merges.txt, none', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tok-test-'));
  try {
    const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'Hello', 'hello', 'world'];
    writeFileSync(join(dir, 'vocab.txt'), `${vocab.join('\n')}\n`);
    let t = await loadTokenizer(dir);
    assert.deepEqual(t.encode('Hello world').inputIds, [2, 6, 7, 3]);
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: false }));
    t = await loadTokenizer(dir);
    assert.deepEqual(t.encode('Hello world').inputIds, [2, 5, 7, 3]);
    // tokenizer.json wins over vocab.txt.
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(wordPieceTokenizerJson(vocab, { lowercase: true })));
    t = await loadTokenizer(dir);
    assert.deepEqual(t.encode('Hello world').inputIds, [2, 6, 7, 3]);
    const d2 = join(dir, 'rob');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(d2);
    const { vocab: bv, merges } = tinyBpe();
    writeFileSync(join(d2, 'vocab.json'), JSON.stringify(bv));
    writeFileSync(join(d2, 'merges.txt'), `#version: 0.2\n${merges.join('\n')}\n`);
    const r = await loadTokenizer(d2, { typeVocabSize: 1 });
    assert.deepEqual(r.encode('hello', 'world').inputIds, [0, bv['hello'], 2, 2, bv['world'], 2]);
    const d3 = join(dir, 'empty');
    mkdirSync(d3);
    await assert.rejects(loadTokenizer(d3), /no tokenizer files/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('vocabSize reports the embedding rows when given (padded vocabularies), never fewer than the ids', () => {
  const vocab = tinyBertVocab();
  const t = new HfTokenizer(wordPieceTokenizerJson(vocab), {}, { vocabSize: vocab.length + 10 });
  assert.equal(t.vocabSize, vocab.length + 10);
  assert.equal(t.numTokens, vocab.length);
  assert.throws(
    () => new HfTokenizer(wordPieceTokenizerJson(vocab), {}, { vocabSize: vocab.length - 1 }),
    /tokenizer has \d+ ids but the model's vocab_size is/,
  );
});
