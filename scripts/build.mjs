#!/usr/bin/env node
// `npm run build`: compiles the product sources (tsconfig.build.json: src/ without tests and test
// helpers) to dist/ and copies the non-TypeScript files the product reads at run time (the
// dashboard's static/ folder), so `dist/` runs with plain node and no tsx.
// Usage: node scripts/build.mjs [--out-dir DIR]   (default: dist; tests build into a temp folder)
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const i = process.argv.indexOf('--out-dir');
const out = i > 0 ? resolve(process.argv[i + 1]) : join(root, 'dist');
rmSync(out, { recursive: true, force: true });
const tsc = spawnSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json', '--outDir', out], {
  cwd: root,
  stdio: 'inherit',
});
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

// Assets: every non-.ts file under src/ outside test fixtures and test helpers.
const SKIP = new Set(['fixtures', 'testing', 'node_modules']);
function copyAssets(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (!SKIP.has(name)) copyAssets(p);
    } else if (!name.endsWith('.ts')) cpSync(p, join(out, relative(root, p)));
  }
}
copyAssets(join(root, 'src'));
