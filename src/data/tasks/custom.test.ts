import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTask } from './load.js';
import { loadTaskSpecFile, validateTaskSpec } from './custom.js';
import { DataError } from '../errors.js';

const base = {
  name: 'reviews',
  format: 'csv',
  files: { train: 'train.csv', dev: 'dev.csv' },
  textColumns: ['review'],
  labelColumn: 'stars',
  labels: ['bad', 'good'],
};

test('a custom CSV task loads from a JSON spec file (files relative to the spec)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'autopeft-custom-'));
  try {
    const rows = Array.from(
      { length: 40 },
      (_, i) => `${i},"review ${i}, with a comma",${i % 4 === 0 ? 'good' : 'bad'}`,
    );
    writeFileSync(join(dir, 'train.csv'), `id,review,stars\r\n${rows.join('\r\n')}`);
    writeFileSync(join(dir, 'dev.csv'), 'id,review,stars\n1,"""quoted"" text",good\n');
    writeFileSync(join(dir, 'task.json'), JSON.stringify(base));
    const d = await loadTask(join(dir, 'task.json'), { validation: { count: 8, seed: 0 } });
    assert.equal(d.info.name, 'reviews');
    assert.deepEqual(d.info.metrics, ['accuracy', 'f1']);
    assert.equal(d.train.length, 32);
    assert.equal(d.validation!.filter((x) => x.label === 1).length, 2);
    assert.deepEqual(d.dev, [{ text: '"quoted" text', label: 1 }]);
    assert.match(d.train[0].text, /^review \d+, with a comma$/);

    // a regression JSONL task with a pair, loaded from a spec object and a data dir
    writeFileSync(join(dir, 'pairs.jsonl'), '{"a": "x", "b": "y", "score": 0.5}\n{"a": "p", "b": "q", "score": "2"}\n');
    const spec = validateTaskSpec({
      name: 'sim',
      format: 'jsonl',
      files: { dev: 'pairs.jsonl' },
      textColumns: ['a', 'b'],
      labelColumn: 'score',
      regression: true,
    });
    assert.deepEqual(spec.metrics, ['pearson', 'spearman']);
    const r = await loadTask(spec, { dataDir: dir, splits: ['dev'] });
    assert.deepEqual(r.dev, [
      { text: 'x', pair: 'y', label: 0.5 },
      { text: 'p', pair: 'q', label: 2 },
    ]);

    // a wrong column name is a DataError naming the file and listing the columns
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...base, textColumns: ['text'] }));
    await assert.rejects(
      loadTask(join(dir, 'bad.json')),
      (e: unknown) =>
        e instanceof DataError &&
        e.file === join(dir, 'train.csv') &&
        /no column "text" \(columns: id, review, stars\)/.test(e.message),
    );
    // a text column that is empty in every row (the id column picked by mistake, say) is refused
    writeFileSync(join(dir, 'empty.csv'), 'id,review,stars\n1,,good\n2,  ,bad\n');
    writeFileSync(join(dir, 'empty.json'), JSON.stringify({ ...base, files: { train: 'empty.csv' } }));
    await assert.rejects(
      loadTask(join(dir, 'empty.json'), { splits: ['train'], validation: false }),
      (e: unknown) =>
        e instanceof DataError &&
        e.file === join(dir, 'empty.csv') &&
        /the first text column \("review"\) is empty in all 2 rows; fix: point textColumns/.test(e.message),
    );
    writeFileSync(join(dir, 'broken.json'), '{"name": ');
    assert.throws(
      () => loadTaskSpecFile(join(dir, 'broken.json')),
      (e: unknown) => e instanceof DataError && /not valid JSON/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('spec validation names the field and the fix', () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ ...base, format: 'xlsx' }, /field "format" must be one of tsv, csv, jsonl, parquet/],
    [{ ...base, textColumns: [] }, /field "textColumns" must be an array of 1 or 2/],
    [{ ...base, textColumns: ['a', 'b', 'c'] }, /field "textColumns"/],
    [{ ...base, labels: ['only'] }, /field "labels" must list at least 2/],
    [{ ...base, labels: ['a', 'a'] }, /field "labels" has duplicates/],
    [{ ...base, regression: true }, /field "labels" must be absent for a regression task/],
    [{ ...base, files: { test: 'x.csv' } }, /field "files.test" is not a split/],
    [{ ...base, metrics: ['pearson'] }, /regression metric, on a classification task/],
    [{ ...base, labels: ['a', 'b', 'c'], metrics: ['f1'] }, /binary "f1" on a 3-class task/],
    [{ ...base, mainMetric: 'mcc' }, /field "mainMetric" must be one of the task's metrics/],
    [{ ...base, format: 'jsonl', labelColumn: 2 }, /column index, but jsonl fields have names/],
    [{ ...base, colour: 'red' }, /field "colour" is not a task spec field/],
    [{ ...base, name: '' }, /field "name" must be a non-empty string/],
  ];
  for (const [obj, re] of bad) {
    assert.throws(
      () => validateTaskSpec(obj, 'spec.json'),
      (e: unknown) =>
        e instanceof DataError &&
        e.message.startsWith('spec.json: ') &&
        re.test(e.message) &&
        /; fix: /.test(e.message),
      re.source,
    );
  }
  const ok = validateTaskSpec({ ...base, labels: [0, 1, 2], metrics: ['macro_f1', 'accuracy'] });
  assert.deepEqual(ok.labels, ['0', '1', '2']);
  assert.equal(ok.mainMetric, 'macro_f1');
});
