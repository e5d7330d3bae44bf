#!/usr/bin/env node
// The `autopeft` command. Runs the TypeScript sources through tsx's loader, so a clone works
// after `npm ci` with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
