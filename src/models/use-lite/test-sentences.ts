/**
 * Real sentences for USE-lite's oracle tests and bench (test/dev only). Reads the GLUE files in
 * ../shared/data (never copied into the repo); returns null when they are absent so tests can skip.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** ../shared/data seen from the repository root. */
export const SHARED_DATA_DIR = fileURLToPath(new URL('../../../../shared/data/', import.meta.url));

export const MISSING_DATA_MESSAGE = `GLUE files not found under ${SHARED_DATA_DIR} (../shared/data); skipping the real-data check`;

function rows(rel: string): string[][] | null {
  const path = join(SHARED_DATA_DIR, rel);
  if (!existsSync(path)) return null;
  return readFileSync(path, 'utf8')
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .filter((l) => l.length > 0)
    .map((l) => l.split('\t'));
}

/** SST-2 dev sentences in file order (header skipped), or null when the file is absent. */
export function sst2Dev(): string[] | null {
  const r = rows('glue/sst2/dev.tsv');
  return r ? r.slice(1).map((c) => c[0]) : null;
}

/** CoLA dev sentences (no header; 4th column), or null. */
export function colaDev(): string[] | null {
  const r = rows('glue/cola/dev.tsv');
  return r ? r.map((c) => c[3]) : null;
}

/** RTE dev sentence1 and sentence2 columns, or null. */
export function rteDev(): string[] | null {
  const r = rows('glue/rte/dev.tsv');
  return r ? r.slice(1).flatMap((c) => [c[1], c[2]]) : null;
}

/** MRPC dev #1 and #2 strings, or null. */
export function mrpcDev(): string[] | null {
  const r = rows('glue/mrpc/dev.tsv');
  return r ? r.slice(1).flatMap((c) => [c[3], c[4]]) : null;
}
