/**
 * One configuration on every command (--config files and AUTOPEFT_* variables checked by the
 * flags' own rules; precedence flag > variable > file > default) and --json's promise (stdout is
 * exactly one JSON document, the human text goes to stderr), table-driven over the commands.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command, Option } from 'commander';
import { writeTinyBert } from '../models/testing/tiny.js';
import { writeToyTask } from '../../test/helpers/toy-task.js';
import { buildProgram } from './main.js';
import { ruleOf } from './options.js';
import { envName } from './config-file.js';
import { runCli } from './testing.js';

let dir: string;
let task: string;
let tiny: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'autopeft-cfg-json-'));
  tiny = join(dir, 'tiny');
  await writeTinyBert(tiny, { layers: 2, hidden: 16, heads: 2, std: 0.1 });
  task = writeToyTask(dir);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI with extra AUTOPEFT_* variables set for the call only. */
async function withEnv(vars: Record<string, string>, args: string[]) {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await runCli(args);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const sink = { write: () => true } as unknown as NodeJS.WritableStream;
const commands = buildProgram({ stdout: sink, stderr: sink }).commands as readonly Command[];

/** Per command: an option whose rule rejects -1 (a number option), else its --json or --quiet switch. */
function probe(cmd: Command): { option: Option; bad: unknown; flagText?: string } {
  const numeric = cmd.options.find((o) => {
    const rule = ruleOf(o.parseArg);
    return rule?.schema.safeParse(1).success === true && !rule.schema.safeParse(-1).success;
  });
  if (numeric) return { option: numeric, bad: -1, flagText: '-1' };
  const sw = cmd.options.find((o) => o.long === '--json' || o.long === '--quiet');
  if (sw) return { option: sw, bad: 'yes' };
  // Else a text option (dashboard: --storage): a list is not a string.
  const text = cmd.options.find((o) => o.required && o.long !== '--config');
  assert.ok(text, `${cmd.name()} has an option to probe`);
  return { option: text, bad: ['x'] };
}

test('every command takes --config; a bad value fails from a flag, a file and a variable alike', async () => {
  assert.ok(commands.length >= 10);
  for (const cmd of commands) {
    const name = cmd.name();
    assert.ok(
      cmd.options.some((o) => o.long === '--config'),
      `${name} has --config`,
    );
    const { option, bad, flagText } = probe(cmd);
    const key = option.attributeName();
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify({ [key]: bad }));
    const fromFile = await runCli([name, '--config', file]);
    assert.equal(fromFile.code, 2, `${name}: ${fromFile.stderr}`);
    const what = /must be (.+?), got/;
    assert.match(fromFile.stderr, new RegExp(`^autopeft: ${file.replace(/[.\\/]/g, '\\$&')}: "${key}" must be `), name);
    assert.equal(fromFile.stderr.split('\n').length, 2, `${name}: one line`);
    // (A variable is always text: a list has no variable form.)
    const fromEnv = Array.isArray(bad) ? undefined : await withEnv({ [envName(key)]: String(bad) }, [name]);
    if (fromEnv) {
      assert.equal(fromEnv.code, 2, `${name}: ${fromEnv.stderr}`);
      assert.match(fromEnv.stderr, new RegExp(`^autopeft: ${envName(key)} must be `), name);
    }
    if (flagText !== undefined && fromEnv) {
      const fromFlag = await runCli([name, `${option.long}=${flagText}`]);
      assert.equal(fromFlag.code, 2, `${name}: ${fromFlag.stderr}`);
      assert.match(fromFlag.stderr, new RegExp(`^autopeft: ${option.long} must be `), name);
      // The same words after "must be", wherever the value came from.
      const words = (s: string) => what.exec(s)?.[1];
      assert.equal(words(fromFile.stderr), words(fromFlag.stderr), name);
      assert.equal(words(fromEnv.stderr), words(fromFlag.stderr), name);
    }
    // An unknown key names the file and the known keys.
    writeFileSync(file, JSON.stringify({ noSuchOption: 1 }));
    const unknown = await runCli([name, '--config', file]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown option "noSuchOption" \(known: /);
  }
});

test('precedence: flag > AUTOPEFT_* > file > default; required options may come from a file', async () => {
  const file = join(dir, 'train.yaml');
  writeFileSync(
    file,
    `task: ${JSON.stringify(task)}\nmodel: ${JSON.stringify(tiny)}\npeft: '{"sa":2}'\nmaxSteps: 2\nbatchSize: 16\nmaxLength: 16\nthreads: 1\nquiet: true\n`,
  );
  // --task is required on train: here it comes from the file only.
  const r = await withEnv({ AUTOPEFT_JSON: '1' }, ['train', '--config', file]);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { task: string; config: { sa: number } };
  assert.equal(j.task, task);
  assert.equal(j.config.sa, 2);
  // A required option missing everywhere names all three places.
  const missing = await runCli(['train']);
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr, 'autopeft: --task is required (or "task" in --config, or AUTOPEFT_TASK)\n');
  // A flag beats the variable, the variable beats the file: seen through tasks --json (a switch).
  writeFileSync(join(dir, 'tasks.json'), JSON.stringify({ json: false }));
  const envWins = await withEnv({ AUTOPEFT_JSON: 'true' }, ['tasks', '--config', join(dir, 'tasks.json')]);
  assert.doesNotThrow(() => JSON.parse(envWins.stdout));
  const fileOnly = await runCli(['tasks', '--config', join(dir, 'tasks.json')]);
  assert.throws(() => JSON.parse(fileOnly.stdout));
  const flagWins = await withEnv({ AUTOPEFT_JSON: 'false' }, ['tasks', '--json']);
  assert.doesNotThrow(() => JSON.parse(flagWins.stdout));
});

test('--json: stdout is exactly one JSON document on every command that has it; human text on stderr', async () => {
  const storage = join(dir, 'json.sqlite');
  const adapter = join(dir, 'adapter');
  const common = ['--batch-size', '16', '--max-length', '16', '--threads', '1', '--quiet', '--json'];
  const few = ['--max-steps', '2', '--epochs', '1'];
  const table: { args: string[]; keys: string[]; human?: RegExp }[] = [
    { args: ['tasks', '--json'], keys: [] },
    {
      args: ['train', '--model', tiny, '--task', task, '--peft', '{"sa":2}', '--out', adapter, ...few, ...common],
      keys: ['task', 'metric', 'paramPct', 'config'],
      human: /tunable params/,
    },
    {
      args: ['evaluate', '--adapter', adapter, '--max-length', '16', '--threads', '1', '--json'],
      keys: ['task', 'split', 'metric', 'examples'],
      human: /dev \(\d+ examples\)/,
    },
    {
      args: [
        'search',
        '--model',
        tiny,
        '--task',
        task,
        '--trials',
        '2',
        '--n-init',
        '2',
        '--batch',
        '2',
        '--sampler',
        'random',
        '--storage',
        storage,
        '--study',
        'js',
        '--workers',
        '1',
        '--max-steps',
        '2',
        ...common,
      ],
      keys: ['study', 'complete', 'failed', 'interrupted'],
      human: /study "js": 2 complete/,
    },
    {
      args: ['report', '--study', 'js', '--storage', storage, '--out', join(dir, 'report'), '--json'],
      keys: ['study', 'trials', 'hypervolume', 'front'],
      human: /Pareto front/,
    },
    {
      args: ['retrain', '--study', 'js', '--storage', storage, '--seeds', '1', ...few, ...common],
      keys: ['study', 'results'],
      human: /re-trained/,
    },
    {
      args: ['transfer', '--study', 'js', '--storage', storage, '--task', task, ...few, ...common],
      keys: ['study', 'task', 'results'],
      human: /transferred to/,
    },
  ];
  for (const { args, keys, human } of table) {
    const r = await runCli(args);
    assert.equal(r.code, 0, `${args[0]}: ${r.stderr}`);
    assert.equal(r.stdout.trimEnd().split('\n').length, 1, `${args[0]}: one line on stdout:\n${r.stdout}`);
    const doc = JSON.parse(r.stdout) as Record<string, unknown>;
    for (const k of keys) assert.ok(k in doc, `${args[0]} --json has "${k}"`);
    if (human) assert.match(r.stderr, human, `${args[0]}: the human text is on stderr`);
  }
});
