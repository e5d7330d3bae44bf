#!/usr/bin/env node
// The `autopeft` command. Runs the TypeScript sources through tsx's loader, so a clone works
// after `npm ci` with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
const { stopPrintingWhenClosed } = await import('../src/cli/context.ts');
// `autopeft ... | head`: a closed pipe stops the printing, not the work.
stopPrintingWhenClosed(process.stdout);
stopPrintingWhenClosed(process.stderr);
process.exitCode = await main(process.argv);
