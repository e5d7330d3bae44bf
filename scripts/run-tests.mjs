#!/usr/bin/env node
// Runs every `*.test.ts` under src/ and test/ with node's built-in test runner (through tsx).
// Node 20's `--test` has no glob support, so the files are collected here.
// Usage: npm test [-- <substring filter>...]
// Without a filter (as in CI) the static checks run first: types (tsc), format + lint (biome) and the
// layering rule (dependency-cruiser); any failure stops the run.
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);
const files = [];
function walk(dir) {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.ts')) files.push(relative(root, p));
  }
}
walk(join(root, 'src'));
walk(join(root, 'test'));
const selected = files.sort().filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
if (selected.length === 0) {
  console.error(`no test files matched ${filters.join(' ')}`);
  process.exit(1);
}
if (filters.length === 0) {
  const bin = (name) => join(root, 'node_modules', '.bin', name);
  const checks = [
    ['types', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']],
    ['format + lint', bin('biome'), ['check', '.']],
    ['layering', bin('depcruise'), ['src', 'test', 'bench', 'scripts', '--config', '.dependency-cruiser.cjs']],
  ];
  for (const [what, cmd, args] of checks) {
    console.log(`# check: ${what}`);
    const c = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
    if (c.status !== 0) {
      console.error(`# check failed: ${what} (${cmd} ${args.join(' ')})`);
      process.exit(c.status ?? 1);
    }
  }
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...selected], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
