import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DEFAULT_PEFT_OPTIONS } from '../peft/config.js';
import { type ExternalTrialInput, parseResultLine, runExternalTrial } from './external-trial.js';

const dir = mkdtempSync(join(tmpdir(), 'autopeft-ext-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const EXAMPLE = join(import.meta.dirname, '../../examples/external-trial.mjs');

const input = (n: number): ExternalTrialInput => ({
  study: 's',
  trial: n,
  model: 'use-lite',
  task: 'toy',
  peft: { layers: [true, false], sa: 64, pa: 0, pt: 8, lora: 0, options: { ...DEFAULT_PEFT_OPTIONS } },
  hyper: { epochs: 3, lr: 1e-3, batchSize: 8, maxLength: 32 },
  seed: 0,
  outputDir: join(dir, 'out', `trial-${n}`),
  paramPct: 1.5,
});

const run = (command: string, n: number, timeoutMs = 20_000, onStderr?: (l: string) => void) =>
  runExternalTrial(input(n), { command, timeoutMs, ...(onStderr ? { onStderr } : {}) });

describe('external trial commands', () => {
  test('the example script: config on stdin, stderr streamed, the last stdout line is the result', async () => {
    const lines: string[] = [];
    const r = await run(`${JSON.stringify(process.execPath)} ${JSON.stringify(EXAMPLE)}`, 0, 20_000, (l) =>
      lines.push(l),
    );
    assert.equal(r.intermediate.length, 3);
    assert.equal(r.metric, r.intermediate[2]);
    assert.ok(r.metric > 0.3 && r.metric < 1 && r.seconds > 0);
    assert.deepEqual(
      lines.map((l) => l.replace(/metric .*/, '')),
      ['trial 0: epoch 1/3 ', 'trial 0: epoch 2/3 ', 'trial 0: epoch 3/3 '],
    );
    // It got the input and its own output folder.
    const saved = JSON.parse(readFileSync(join(dir, 'out', 'trial-0', 'result.json'), 'utf8'));
    assert.deepEqual(saved.input, input(0));
  });

  test('earlier stdout lines are ignored; a shell pipeline works', async () => {
    const r = await run(`cat > /dev/null; echo "loading..."; echo '{"metric": 0.25}'; echo`, 1);
    assert.deepEqual([r.metric, r.intermediate], [0.25, []]);
  });

  test('a non-zero exit fails with the code and the last stderr line', async () => {
    await assert.rejects(
      run(`echo "CUDA out of memory" >&2; exit 1`, 2),
      /^ExternalTrialError: trial command exited with code 1; its last stderr line: "CUDA out of memory"$/,
    );
  });

  test('garbage, a missing or non-finite metric, unknown keys: failed with the reason', async () => {
    await assert.rejects(run(`echo 'Epoch 3: acc=0.9'`, 3), /last stdout line is not JSON \("Epoch 3: acc=0.9"\)/);
    await assert.rejects(run(`true`, 4), /printed nothing on stdout/);
    await assert.rejects(run(`echo '{"accuracy": 0.9}'`, 5), /unknown key "accuracy"/);
    await assert.rejects(run(`echo '{"metric": "0.9"}'`, 6), /no finite "metric" \(got "0.9"\)/);
    await assert.rejects(run(`echo '{"metric": 1, "intermediate": [1, null]}'`, 7), /"intermediate" must be an array/);
    await assert.rejects(run(`echo '[0.9]'`, 8), /not a JSON object/);
    assert.deepEqual(parseResultLine('x\n{"metric": -2.5, "intermediate": [1]}\n\n'), {
      metric: -2.5,
      intermediate: [1],
    });
  });

  test('a command past its timeout is killed with its whole process tree', async () => {
    const pidFile = join(dir, 'grandchild.pid');
    const t0 = Date.now();
    await assert.rejects(
      run(`sleep 30 & echo $! > ${pidFile}; echo "still training" >&2; wait`, 9, 700),
      /^ExternalTrialError: trial command timed out after 0.7 s; its last stderr line: "still training"$/,
    );
    assert.ok(Date.now() - t0 < 8000, 'the timeout did not stop it');
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    // The background `sleep` (a grandchild) is gone too.
    await new Promise((r) => setTimeout(r, 200));
    // Gone, or a zombie nobody reaps (a container's PID 1 may not): either way no longer running.
    const stat = existsSync(`/proc/${grandchild}/stat`) ? readFileSync(`/proc/${grandchild}/stat`, 'utf8') : '';
    assert.ok(stat === '' || / Z /.test(stat), `grandchild still running: ${stat}`);
  });

  test('an abort stops it (the worker was told to stop)', async () => {
    const c = new AbortController();
    const p = runExternalTrial(input(10), { command: 'sleep 30', timeoutMs: 60_000, signal: c.signal });
    setTimeout(() => c.abort(), 200);
    await assert.rejects(p, /trial command interrupted/);
  });

  test('a command that does not exist fails naming the shell error', async () => {
    await assert.rejects(
      run('no-such-command-autopeft --x', 11),
      /exited with code 127; its last stderr line: .*not found/,
    );
    assert.ok(existsSync(join(dir, 'out', 'trial-11')), 'the output folder is made before the command runs');
    assert.ok(execFileSync('sh', ['-c', 'echo ok']).toString().includes('ok'));
  });
});
