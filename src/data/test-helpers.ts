/**
 * Test helpers for the data room (not part of the public API): a tiny whitespace tokenizer that
 * follows the Tokenizer contract (BERT-style specials, longest-first pair truncation), and the
 * location of the shared benchmark data.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { Encoding, Tokenizer } from '../models/tokenizers/types.js';

/** ../shared/data from the repository root (absent on machines without it); AUTOPEFT_SHARED_DATA overrides. */
export const SHARED_DATA =
  process.env.AUTOPEFT_SHARED_DATA ?? fileURLToPath(new URL('../../../shared/data', import.meta.url));
export const hasSharedData = (...rel: string[]): boolean => existsSync(join(SHARED_DATA, ...rel));
export const SKIP_NO_DATA = `../shared/data not found at ${SHARED_DATA}: real-data tests skipped`;

/**
 * Whitespace tokenizer: ids 0 [PAD], 1 [CLS], 2 [SEP], 3 [UNK]; words get ids from 4 in first-seen
 * order (the vocabulary grows; vocabSize reports the current size).
 */
export class WhitespaceTokenizer implements Tokenizer {
  readonly padId = 0;
  private readonly vocab = new Map<string, number>();
  calls = 0;

  get vocabSize(): number {
    return 4 + this.vocab.size;
  }

  idOf(word: string): number {
    let id = this.vocab.get(word);
    if (id === undefined) this.vocab.set(word, (id = 4 + this.vocab.size));
    return id;
  }

  encode(text: string, pair?: string, maxLength = 512): Encoding {
    this.calls++;
    const a = text
      .split(/\s+/)
      .filter((w) => w !== '')
      .map((w) => this.idOf(w));
    const b =
      pair === undefined
        ? undefined
        : pair
            .split(/\s+/)
            .filter((w) => w !== '')
            .map((w) => this.idOf(w));
    const specials = b === undefined ? 2 : 3;
    const budget = Math.max(0, maxLength - specials);
    // longest_first: drop from the end of the longer sequence until both fit.
    while (a.length + (b?.length ?? 0) > budget) {
      if (b !== undefined && b.length >= a.length)
        b.pop(); // ties cut the pair, as HF does
      else a.pop();
    }
    const inputIds = [1, ...a, 2, ...(b === undefined ? [] : [...b, 2])];
    const tokenTypeIds = [
      ...new Array<number>(a.length + 2).fill(0),
      ...new Array<number>(b === undefined ? 0 : b.length + 1).fill(1),
    ];
    return { inputIds, tokenTypeIds };
  }
}
