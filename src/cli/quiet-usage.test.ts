/**
 * `train --quiet` prints the result only (no "training on" / "epoch" / "after N examples" lines),
 * and commander's usage errors are one line with the suggestion folded in.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyBert } from '../models/testing/tiny.js';
import { writeToyTask } from '../../test/helpers/toy-task.js';
import { runCli } from './testing.js';
import { usageLine } from './main.js';

let dir: string;
let spec: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'autopeft-quiet-'));
  await writeTinyBert(join(dir, 'tiny'), { layers: 1, hidden: 16, heads: 2 });
  spec = writeToyTask(dir);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('train --quiet: no progress lines, only the result; without it the progress lines are there', async () => {
  const args = ['train', '--model', join(dir, 'tiny'), '--task', spec, '--max-steps', '2', '--epochs', '2'];
  const loud = await runCli(args);
  assert.equal(loud.code, 0, loud.stderr);
  assert.match(loud.stderr, /training on \d+ examples/);
  assert.match(loud.stderr, /epoch 1: validation/);
  const quiet = await runCli([...args, '--quiet']);
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.equal(quiet.stderr, '');
  assert.match(quiet.stdout, /validation accuracy/);
});

test('usage errors: one line, the suggestion folded in', async () => {
  const r = await runCli(['search', '--trails', '3']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, "autopeft: unknown option '--trails' (did you mean --trials?); run with --help for usage\n");
  assert.equal(
    usageLine("error: too many arguments for 'search'. Expected 0 arguments but got 2.\n"),
    "too many arguments for 'search'. Expected 0 arguments but got 2; run with --help for usage",
  );
});
