import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTask } from './load.js';
import { isSpamDev, readSpamCorpus } from './spam.js';
import { DataError } from '../errors.js';

test('spam corpus: 6,046 messages, 1,896 spam, extracted text, fixed dev split', async () => {
  const corpus = readSpamCorpus();
  assert.equal(corpus.length, 6046);
  assert.equal(corpus.filter((m) => m.label === 1).length, 1896);
  assert.ok(corpus.every((m) => m.text.length <= 1000));
  // no raw headers left in the text (one spam message quotes a header block in its body)
  assert.ok(corpus.filter((m) => /^(Return-Path|Received|Delivered-To):/m.test(m.text)).length <= 1);
  // (9 bodies forward or quote a header block within their first 1000 characters)
  assert.ok(corpus.filter((m) => / (Return-Path|Received|Delivered-To|Message-Id): /.test(m.text)).length < 20);
  const first = corpus[0];
  assert.equal(first.group, 'easy-ham-1');
  assert.ok(first.text.startsWith('Re: New Sequences Window\n'), first.text.slice(0, 60));

  const d = await loadTask('spam');
  assert.equal(d.info.name, 'spam');
  assert.deepEqual(d.info.labelNames, ['ham', 'spam']);
  assert.equal(d.info.mainMetric, 'f1');
  const n = d.train.length + d.validation!.length + d.dev!.length;
  assert.equal(n, 6046);
  const devShare = d.dev!.length / n;
  assert.ok(devShare > 0.18 && devShare < 0.22, String(devShare));
  assert.equal(d.dev!.length, corpus.filter((m) => isSpamDev(m.md5, 0.2)).length);
  const spamShare = d.dev!.filter((e) => e.label === 1).length / d.dev!.length;
  assert.ok(Math.abs(spamShare - 1896 / 6046) < 0.03, String(spamShare));
  assert.equal(d.validation!.length, Math.min(1000, Math.round(0.1 * (6046 - d.dev!.length))));

  // same dev whatever the validation seed; subsample is stratified
  const e = await loadTask('spam', { validation: { fraction: 0.1, seed: 42 }, subsample: { count: 300, seed: 1 } });
  assert.deepEqual(e.dev, d.dev);
  assert.notDeepEqual(e.validation, d.validation);
  assert.equal(e.train.length, 300);
  const s = e.train.filter((x) => x.label === 1).length;
  assert.ok(Math.abs(s / 300 - d.train.filter((x) => x.label === 1).length / d.train.length) < 0.01);

  const short = await loadTask('spam', { spam: { maxChars: 100 }, splits: ['dev'] });
  assert.ok(short.dev!.every((x) => x.text.length <= 100));
  assert.equal(short.dev!.length, d.dev!.length);
  const small = await loadTask('spam', { maxRows: 200, validation: { count: 20 } });
  assert.deepEqual([small.train.length, small.validation!.length, small.dev!.length], [180, 20, 200]);
  assert.ok(Math.abs(small.dev!.filter((x) => x.label === 1).length / 200 - spamShare) < 0.01);
  await assert.rejects(loadTask('spam', { spam: { devFraction: 1.5 } }), DataError);
  assert.throws(
    () => readSpamCorpus({ packageDir: '/nonexistent' }),
    (err: unknown) => err instanceof DataError && /file_list\.json/.test(err.message),
  );
});
