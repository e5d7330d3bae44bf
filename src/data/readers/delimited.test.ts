import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parseDelimited, readDelimited } from './delimited.js';
import { DataError } from '../errors.js';
import { hasSharedData, SHARED_DATA, SKIP_NO_DATA } from '../test-helpers.js';

test('TSV: header, BOM, CRLF, missing final newline, blank lines', () => {
  const t = parseDelimited('\uFEFFa\tb\r\n1\tx y\r\n\r\n2\t\r\n3\tz', 'mem.tsv');
  assert.deepEqual(t.columns, ['a', 'b']);
  assert.deepEqual(t.rows, [
    ['1', 'x y'],
    ['2', ''],
    ['3', 'z'],
  ]);
  assert.deepEqual(t.lines, [2, 4, 5]);
});

test('TSV without header names columns by index', () => {
  const t = parseDelimited('gj04\t1\t\tThe sailors rode.\ngj04\t0\t*\tBad sentence.', 'cola.tsv', { header: false });
  assert.deepEqual(t.columns, ['0', '1', '2', '3']);
  assert.equal(t.rows.length, 2);
  assert.equal(t.rows[1][2], '*');
});

test('TSV default quoting is none: bare and unbalanced quotes are text', () => {
  const t = parseDelimited('q\ts1\ts2\n1\tHe said it.\t"The pie business does not fit.\n0\t"a" b\tc""d', 'mrpc.tsv');
  assert.deepEqual(t.rows[0], ['1', 'He said it.', '"The pie business does not fit.']);
  assert.deepEqual(t.rows[1], ['0', '"a" b', 'c""d']);
});

test('ragged row is a DataError naming file:line', () => {
  assert.throws(
    () => parseDelimited('a\tb\n1\t2\n3\n', 'f.tsv'),
    (e: unknown) =>
      e instanceof DataError &&
      e.file === 'f.tsv' &&
      e.line === 3 &&
      /^f\.tsv:3: row has 1 fields but the header has 2/.test(e.message),
  );
  const t = parseDelimited('a\tb\n1\t2\n3\n4\t5\t6\n7\t8', 'f.tsv', { onRagged: 'skip' });
  assert.deepEqual(t.rows, [
    ['1', '2'],
    ['7', '8'],
  ]);
  assert.deepEqual(t.skipped, [3, 4]);
});

test('CSV RFC 4180: quoted delimiters, doubled quotes, line breaks in quotes, line numbers', () => {
  const text =
    'id,text,label\r\n1,"hello, world",pos\r\n2,"she said ""hi""",neg\r\n3,"two\nlines",pos\n4,plain,neg\n5,,pos';
  const t = parseDelimited(text, 'f.csv', { delimiter: ',' });
  assert.deepEqual(t.rows, [
    ['1', 'hello, world', 'pos'],
    ['2', 'she said "hi"', 'neg'],
    ['3', 'two\nlines', 'pos'],
    ['4', 'plain', 'neg'],
    ['5', '', 'pos'],
  ]);
  assert.deepEqual(t.lines, [2, 3, 4, 6, 7]);
  // trailing empty field at end of text
  assert.deepEqual(parseDelimited('a,b\n1,', 'g.csv', { delimiter: ',' }).rows, [['1', '']]);
});

test('CSV errors: unterminated quote and text after a closing quote name the line', () => {
  assert.throws(
    () => parseDelimited('a,b\n1,2\n3,"open\nmore', 'u.csv', { delimiter: ',' }),
    (e: unknown) => e instanceof DataError && e.line === 3 && /unterminated/.test(e.message),
  );
  assert.throws(
    () => parseDelimited('a,b\n1,"x"y', 'v.csv', { delimiter: ',' }),
    (e: unknown) => e instanceof DataError && e.line === 2 && /after a closing quote/.test(e.message),
  );
  // ragged row after a multi-line field reports the right line
  assert.throws(
    () => parseDelimited('a,b\n"x\ny",1\n2\n', 'w.csv', { delimiter: ',' }),
    (e: unknown) => e instanceof DataError && e.line === 4,
  );
});

test('empty file and unreadable path are DataErrors', () => {
  assert.throws(
    () => parseDelimited('', 'e.tsv'),
    (e: unknown) => e instanceof DataError && /empty/.test(e.message),
  );
  assert.throws(
    () => readDelimited('/nonexistent/x.tsv'),
    (e: unknown) => e instanceof DataError && /ENOENT/.test(e.message),
  );
});

test('maxRows stops early', () => {
  const t = parseDelimited('a\n1\n2\n3\n', 'm.tsv', { maxRows: 2 });
  assert.deepEqual(t.rows, [['1'], ['2']]);
});

test('real GLUE TSVs read quote-unaware with the published field counts', {
  skip: hasSharedData('glue') ? false : SKIP_NO_DATA,
}, () => {
  const mrpc = readDelimited(join(SHARED_DATA, 'glue/mrpc/dev.tsv'));
  assert.deepEqual(mrpc.columns, ['Quality', '#1 ID', '#2 ID', '#1 String', '#2 String']); // BOM dropped
  assert.equal(mrpc.rows.length, 408);
  assert.equal(mrpc.rows[0][4], '"The foodservice pie business does not fit our long-term growth strategy.');
  const cola = readDelimited(join(SHARED_DATA, 'glue/cola/dev.tsv'), { header: false });
  assert.equal(cola.rows.length, 1043); // the file has no final newline
  const stsb = readDelimited(join(SHARED_DATA, 'glue/stsb/train.tsv'));
  assert.equal(stsb.rows.length, 5749);
  assert.equal(stsb.columns.length, 10);
});

test('file reader (byte scan) equals the string parser; select keeps some columns', () => {
  const dir = mkdtempSync(join(tmpdir(), 'autopeft-tsv-'));
  try {
    const p = join(dir, 'x.tsv');
    const text = '\uFEFFid\ttext\tlabel\r\n1\tcafé "x\t0\r\n\r\n2\t✓ ok\t1';
    writeFileSync(p, text);
    const a = readDelimited(p);
    assert.deepEqual(a, parseDelimited(text, p));
    assert.deepEqual(a.rows, [
      ['1', 'café "x', '0'],
      ['2', '✓ ok', '1'],
    ]);
    const b = readDelimited(p, { select: (cols) => [cols.indexOf('label'), cols.indexOf('text')] });
    assert.deepEqual(b.columns, ['label', 'text']);
    assert.deepEqual(b.rows, [
      ['0', 'café "x'],
      ['1', '✓ ok'],
    ]);
    writeFileSync(p, 'a\tb\n1\t2\n3\n');
    assert.throws(
      () => readDelimited(p, { select: () => [0] }),
      (e: unknown) => e instanceof DataError && e.line === 3,
    );
    const c = join(dir, 'x.csv');
    writeFileSync(c, 'a,b\n"1,5",x\n');
    assert.deepEqual(readDelimited(c, { delimiter: ',', select: () => [0] }).rows, [['1,5']]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('real GLUE TSVs: byte-scan reader equals the string parser on every file', {
  skip: hasSharedData('glue') ? false : SKIP_NO_DATA,
}, () => {
  for (const [task, header] of [
    ['sst2', true],
    ['cola', false],
    ['mrpc', true],
    ['rte', true],
    ['stsb', true],
  ] as const) {
    for (const split of ['train', 'dev']) {
      const p = join(SHARED_DATA, 'glue', task, `${split}.tsv`);
      assert.deepEqual(readDelimited(p, { header }), parseDelimited(readFileSync(p, 'utf8'), p, { header }), p);
    }
  }
});
