#!/usr/bin/env node
// The `autopeft` command. An installed package runs the compiled dist/ with plain node. A clone
// (src/ present, tsx installed) runs the TypeScript sources through tsx's loader, so it works after
// `npm ci` with no build step and never runs a stale dist/; AUTOPEFT_FROM_DIST=1 makes a clone
// run its dist/ (`npm run build` first), as the package test does.
import { existsSync } from 'node:fs';

const here = (p) => new URL(p, import.meta.url);
const dist = here('../dist/src/cli/main.js');
const sources = here('../src/cli/main.ts');

async function tsx() {
  try {
    return await import('tsx/esm/api');
  } catch (e) {
    // Installed without dev dependencies: run the build instead.
    if (e?.code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw e;
  }
}

async function load() {
  if (process.env.AUTOPEFT_FROM_DIST !== '1' && existsSync(sources)) {
    const loader = await tsx();
    if (loader) {
      loader.register();
      return import(sources.href);
    }
  }
  if (!existsSync(dist)) {
    process.stderr.write('autopeft: dist/ is missing; run `npm run build` first\n');
    process.exit(2);
  }
  return import(dist.href);
}

const { main } = await load();
process.exitCode = await main(process.argv);
