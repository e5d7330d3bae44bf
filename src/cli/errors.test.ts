import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../core/errors.js';
import { DataError } from '../data/errors.js';
import { JobError } from '../exec/types.js';
import { GraphError } from '../graph/errors.js';
import { ModelConfigError } from '../models/io/errors.js';
import { ReportError } from '../report/errors.js';
import { SearchSpaceError } from '../search/space/errors.js';
import { StudyMismatchError } from '../search/study/errors.js';
import { UnknownStudyError } from '../storage/errors.js';
import { DivergedError } from '../train/errors.js';
import { reportError } from './errors.js';

function printed(e: unknown): { code: number; out: string } {
  let out = '';
  const code = reportError(e, (s) => (out += s));
  return { code, out };
}

test("every room's user errors print one line and exit 2", () => {
  const errors: Error[] = [
    new UsageError('--trials must be >= 1, got 0'),
    new DataError('no such column "sentence"', { file: 'train.tsv', line: 1 }),
    new ModelConfigError('config.json', 'hidden_size', 'config.json: hidden_size must be a positive integer'),
    new SearchSpaceError('space: unknown key "x"'),
    new UnknownStudyError('s', 'studies.sqlite', []),
    new ReportError('trials[0].metric', 'must be a finite number'),
    new DivergedError(3, 'the loss at step 3 is NaN', 0.1),
    new StudyMismatchError('study "s" maximizes metric; the caller declared minimize'),
    new JobError('train.tsv:1: no such column', 'DataError', { userFacing: true }),
  ];
  for (const e of errors) {
    const { code, out } = printed(e);
    assert.equal(code, 2, e.name);
    assert.equal(out, `autopeft: ${e.message.split('\n')[0]}\n`, e.name);
  }
});

test('anything else is a bug: exit 1 with the stack', () => {
  for (const e of [
    new GraphError('matmul: shapes [2,3] and [4,5] do not agree'),
    new Error('boom'),
    new JobError('x is undefined', 'TypeError', { stack: 'TypeError: x is undefined\n    at job' }),
  ]) {
    const { code, out } = printed(e);
    assert.equal(code, 1, e.name);
    assert.match(out, /internal error/);
    assert.ok(out.includes(e.stack!.split('\n')[0]!), out);
  }
});
