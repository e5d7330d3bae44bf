/**
 * The package as a user installs it: `npm run build`'s output (built here into a temp folder, so the
 * test never races a developer's dist/), laid out as package.json's `files` say (bin/ and dist/src/,
 * no sources) under another project's node_modules, imported by name through the `exports` map
 * with plain node. A resolve hook passed to every process (NODE_OPTIONS) fails any import of tsx,
 * so the two-trial search below proves that the process pool and the trial job run from dist/.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeTinyBert } from '../../src/models/testing/tiny.js';
import { writeToyTask } from '../helpers/toy-task.js';

const ROOT = resolve(import.meta.dirname, '../..');
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  files: string[];
  dependencies: Record<string, string>;
};
let dir: string;
let app: string;
let pkg: string;
let env: NodeJS.ProcessEnv;

function run(args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, args, { cwd, env, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'autopeft-dist-'));
  const built = join(dir, 'build');
  const b = spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--out-dir', built], { encoding: 'utf8' });
  assert.equal(b.status, 0, `build failed:\n${b.stdout}${b.stderr}`);
  // An installed copy: package.json + the `files` entries, dependencies from this clone's node_modules.
  app = join(dir, 'app');
  pkg = join(app, 'node_modules', 'autopeft');
  mkdirSync(pkg, { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  assert.deepEqual(manifest.files, ['bin/', 'dist/src/']);
  cpSync(join(ROOT, 'bin'), join(pkg, 'bin'), { recursive: true });
  cpSync(join(built, 'src'), join(pkg, 'dist', 'src'), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', type: 'module', private: true }));
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
  env = { ...process.env, NODE_OPTIONS: `--import ${register}` };
  await writeTinyBert(join(dir, 'tiny'), { layers: 2, hidden: 16, heads: 2, std: 0.1 });
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('the built package holds product code only, with types', () => {
  assert.ok(existsSync(join(pkg, 'dist/src/index.js')));
  assert.ok(existsSync(join(pkg, 'dist/src/index.d.ts')));
  assert.ok(existsSync(join(pkg, 'dist/src/pipeline/jobs/trial.js')));
  assert.ok(existsSync(join(pkg, 'dist/src/exec/child.js')));
  const files = spawnSync('find', [join(pkg, 'dist'), '-type', 'f'], { encoding: 'utf8' })
    .stdout.trim()
    .split('\n');
  const stray = files.filter((f) =>
    /\.test\.|\/testing\/|\/testing\.|\/fixtures\/|\.ts$/.test(f.replace(/\.d\.ts$/, '')),
  );
  assert.deepEqual(stray, []);
  assert.equal(manifest.dependencies.tsx, undefined, 'tsx is a dev dependency');
  // The guard the next tests rely on: with it, importing tsx fails.
  const guarded = run(['--input-type=module', '-e', "await import('tsx/esm/api')"], ROOT);
  assert.notEqual(guarded.status, 0);
  assert.match(guarded.stderr, /tsx imported from dist: tsx\/esm\/api/);
});

test('plain node imports the package by name and runs a two-trial search in the process pool from dist/', () => {
  const task = writeToyTask(dir);
  writeFileSync(
    join(app, 'main.mjs'),
    `import { pipeline, storage } from 'autopeft';
const pkg = (await import('autopeft/package.json', { with: { type: 'json' } })).default;
const done = [];
const out = await pipeline.runSearch({
  storage: storage.memoryStorage(), study: 'dist', model: ${JSON.stringify(join(dir, 'tiny'))}, task: ${JSON.stringify(task)},
  trials: 2, nInit: 2, batch: 2, sampler: 'random', seed: 0, lora: false,
  hyper: { epochs: 1, lr: 1e-3, batchSize: 16, maxLength: 16, seed: 0 }, fidelity: { trainCount: 48 },
  workers: 2, threadsPerWorker: 1,
  onEvent: (e) => { if (e.kind === 'trial-done') done.push(e.result); },
});
console.log(JSON.stringify({ version: pkg.version, out, done }));
`,
  );
  const r = run(['main.mjs'], app);
  assert.equal(r.status, 0, r.stderr);
  const { version, out, done } = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
    version: string;
    out: { complete: number; failed: number; interrupted: boolean };
    done: { metric: number; paramPct: number; peft: { layers: boolean[] } }[];
  };
  assert.equal(version, manifest.version);
  assert.deepEqual(out, { complete: 2, failed: 0, interrupted: false });
  assert.equal(done.length, 2);
  for (const t of done) {
    assert.ok(t.metric >= 0 && t.metric <= 1, String(t.metric));
    assert.ok(t.paramPct > 0);
    assert.equal(t.peft.layers.length, 2);
  }
});

test('the installed bin runs dist/ with plain node', () => {
  const v = run([join(pkg, 'bin/autopeft.mjs'), '--version'], app);
  assert.equal(v.status, 0, v.stderr);
  assert.equal(v.stdout.trim(), manifest.version);
  const h = run([join(pkg, 'bin/autopeft.mjs'), 'search', '--help'], app);
  assert.equal(h.status, 0, h.stderr);
  assert.match(h.stdout, /--workers/);
});
