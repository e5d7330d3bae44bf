/**
 * A `Tokenizer` over a Hugging Face `tokenizer.json`, through @huggingface/tokenizers for
 * normalisation, pre-tokenisation and the model (WordPiece, BPE, Unigram). That library has no
 * truncation, and its post-processors differ from the Rust crate in places (its RobertaProcessing
 * gives the second text type id 1), so special tokens, token types and truncation are done here,
 * from the `post_processor` section of the file.
 */
import { Tokenizer as LibTokenizer } from '@huggingface/tokenizers';
import { TokenizerError } from '../io/errors.js';
import type { Encoding, Tokenizer } from './types.js';

/** One slot of a template: special token ids, or the A/B text. */
type TemplateItem =
  | { kind: 'special'; ids: number[]; typeId: number }
  | { kind: 'seq'; seq: 'A' | 'B'; typeId: number };

interface Template {
  single: TemplateItem[];
  pair: TemplateItem[];
}

export interface HfTokenizerOptions {
  /** Path (or label) of the tokenizer file, used in error messages. */
  file?: string;
  /** Pad id to use when tokenizer.json / tokenizer_config.json name none (e.g. config.json's pad_token_id). */
  padId?: number | undefined;
  /** Rows of the model's token type table; template type ids must be below it. */
  typeVocabSize?: number | undefined;
  /**
   * Rows of the model's embedding table (config.json vocab_size), reported as `vocabSize`; must
   * be >= the tokenizer's own id count. Default: the tokenizer's id count.
   */
  vocabSize?: number | undefined;
}

type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Token text of a tokenizer_config special token (a string or an AddedToken dict). */
export function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (isObj(v) && typeof v['content'] === 'string') return v['content'];
  return undefined;
}

export class HfTokenizer implements Tokenizer {
  /** Embedding rows: `opts.vocabSize` when given, else `numTokens`. */
  readonly vocabSize: number;
  /** Ids the tokenizer itself can produce: 1 + the largest id in its vocabulary and added tokens. */
  readonly numTokens: number;
  readonly padId: number;
  /** Where it came from (for errors). */
  readonly file: string;
  /** Special tokens added around a single text / a pair. */
  readonly numSpecialTokens: { single: number; pair: number };
  private readonly lib: LibTokenizer;
  private readonly template: Template;

  /**
   * @param tokenizerJson parsed tokenizer.json
   * @param tokenizerConfig parsed tokenizer_config.json (may be empty)
   */
  constructor(tokenizerJson: unknown, tokenizerConfig: unknown = {}, opts: HfTokenizerOptions = {}) {
    this.file = opts.file ?? 'tokenizer.json';
    const fail = (why: string): never => {
      throw new TokenizerError(this.file, `${this.file}: ${why}`);
    };
    if (!isObj(tokenizerJson) || !isObj(tokenizerJson['model'])) fail('not a tokenizer.json (no "model" object)');
    const tj = tokenizerJson as Json;
    const cfg = isObj(tokenizerConfig) ? tokenizerConfig : {};
    // The library requires these keys; the post-processor is ours, so it gets none.
    const forLib: Json = {
      normalizer: null,
      pre_tokenizer: null,
      decoder: null,
      added_tokens: [],
      ...tj,
      post_processor: null,
    };
    try {
      this.lib = new LibTokenizer(forLib, cfg);
    } catch (e) {
      throw new TokenizerError(this.file, `${this.file}: cannot build the tokenizer (${(e as Error).message})`);
    }
    const vocab = this.lib.get_vocab(true);
    let maxId = -1;
    for (const id of vocab.values()) if (id > maxId) maxId = id;
    this.numTokens = maxId + 1;
    if (opts.vocabSize !== undefined && opts.vocabSize < this.numTokens) {
      fail(
        `tokenizer has ${this.numTokens} ids but the model's vocab_size is ${opts.vocabSize}; tokenizer and model do not match`,
      );
    }
    this.vocabSize = opts.vocabSize ?? this.numTokens;
    this.template = parseTemplate(tj['post_processor'] ?? null, (tok) => this.lib.token_to_id(tok), fail);
    this.numSpecialTokens = { single: countSpecial(this.template.single), pair: countSpecial(this.template.pair) };
    if (opts.typeVocabSize !== undefined) {
      for (const item of [...this.template.single, ...this.template.pair]) {
        if (item.typeId >= opts.typeVocabSize) {
          fail(
            `post_processor uses token type id ${item.typeId} but the model has type_vocab_size ${opts.typeVocabSize}; fix the template or the config`,
          );
        }
      }
    }
    const padding = tj['padding'];
    const padFromJson = isObj(padding) && typeof padding['pad_id'] === 'number' ? padding['pad_id'] : undefined;
    const padTok = tokenText(cfg['pad_token']);
    const padId =
      padFromJson ??
      (padTok !== undefined ? this.lib.token_to_id(padTok) : undefined) ??
      opts.padId ??
      this.lib.token_to_id('[PAD]') ??
      this.lib.token_to_id('<pad>');
    if (padId === undefined)
      fail('no pad token found (no padding.pad_id, no pad_token in tokenizer_config.json, no [PAD] or <pad>); add one');
    this.padId = padId as number;
  }

  /** Token strings of `text`, without special tokens. */
  tokenize(text: string): string[] {
    return this.lib.tokenize(text, { add_special_tokens: false });
  }

  /** Token ids of `text`, without special tokens. */
  encodeIds(text: string): number[] {
    const ids = this.lib.encode(text, { add_special_tokens: false }).ids;
    for (const id of ids) {
      if (id === undefined || id === null) {
        throw new TokenizerError(
          this.file,
          `${this.file}: text produced a token outside the vocabulary and the model has no unk_token; use a tokenizer with an unk token`,
        );
      }
    }
    return ids;
  }

  tokenToId(token: string): number | undefined {
    return this.lib.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.lib.id_to_token(id);
  }

  decode(ids: number[], skipSpecialTokens = true): string {
    if (ids.length === 0) return '';
    return this.lib.decode(ids, { skip_special_tokens: skipSpecialTokens });
  }

  encode(text: string, pair?: string, maxLength?: number): Encoding {
    let a = this.encodeIds(text);
    let b = pair === undefined ? undefined : this.encodeIds(pair);
    if (maxLength !== undefined) {
      const nSpecial = b === undefined ? this.numSpecialTokens.single : this.numSpecialTokens.pair;
      if (!Number.isInteger(maxLength) || maxLength < nSpecial) {
        throw new TokenizerError(
          this.file,
          `maxLength ${maxLength} cannot hold the ${nSpecial} special tokens of ${b === undefined ? 'a single text' : 'a text pair'}; use a larger max length`,
        );
      }
      [a, b] = truncateLongestFirst(a, b, maxLength - nSpecial);
    }
    const inputIds: number[] = [];
    const tokenTypeIds: number[] = [];
    for (const item of b === undefined ? this.template.single : this.template.pair) {
      const ids = item.kind === 'special' ? item.ids : item.seq === 'A' ? a : b!;
      for (const id of ids) {
        inputIds.push(id);
        tokenTypeIds.push(item.typeId);
      }
    }
    return { inputIds, tokenTypeIds };
  }
}

function countSpecial(items: TemplateItem[]): number {
  return items.reduce((s, it) => s + (it.kind === 'special' ? it.ids.length : 0), 0);
}

/**
 * Hugging Face's `longest_first` truncation of two id lists to at most `budget` ids in total
 * (tokenizers' truncate_encodings): with n1 <= n2 the lengths, keep n1 and cut the longer to
 * max(n1, budget - n1); if that still exceeds, cut both to budget/2 (the longer keeps the odd one).
 * A single text is cut to `budget`. Ids are dropped from the end.
 */
export function truncateLongestFirst(
  a: number[],
  b: number[] | undefined,
  budget: number,
): [number[], number[] | undefined] {
  if (b === undefined) return [a.length > budget ? a.slice(0, budget) : a, undefined];
  if (a.length + b.length <= budget) return [a, b];
  const swap = a.length > b.length;
  let n1 = swap ? b.length : a.length;
  let n2: number;
  n2 = n1 > budget ? n1 : Math.max(n1, budget - n1);
  if (n1 + n2 > budget) {
    n1 = Math.floor(budget / 2);
    n2 = n1 + (budget % 2);
  }
  const [na, nb] = swap ? [n2, n1] : [n1, n2];
  return [a.slice(0, na), b.slice(0, nb)];
}

function parseTemplate(pp: unknown, idOf: (tok: string) => number | undefined, fail: (why: string) => never): Template {
  if (pp === null)
    return {
      single: [{ kind: 'seq', seq: 'A', typeId: 0 }],
      pair: [
        { kind: 'seq', seq: 'A', typeId: 0 },
        { kind: 'seq', seq: 'B', typeId: 0 },
      ],
    };
  if (!isObj(pp)) return fail('post_processor must be an object or null');
  const pairTok = (v: unknown, what: string): number => {
    // BertProcessing / RobertaProcessing: ["[CLS]", 101]
    if (Array.isArray(v) && typeof v[1] === 'number') return v[1];
    return fail(`post_processor.${what} must be [token, id]`);
  };
  switch (pp['type']) {
    case 'TemplateProcessing': {
      const specials = isObj(pp['special_tokens']) ? pp['special_tokens'] : {};
      const item = (x: unknown): TemplateItem => {
        if (isObj(x) && isObj(x['SpecialToken'])) {
          const st = x['SpecialToken'];
          const name = String(st['id']);
          const entry = specials[name];
          let ids: number[] | undefined;
          if (isObj(entry) && Array.isArray(entry['ids'])) ids = entry['ids'] as number[];
          else {
            const id = idOf(name);
            if (id !== undefined) ids = [id];
          }
          if (!ids) return fail(`post_processor special token ${JSON.stringify(name)} has no id`);
          return { kind: 'special', ids, typeId: Number(st['type_id'] ?? 0) };
        }
        if (isObj(x) && isObj(x['Sequence'])) {
          const s = x['Sequence'];
          return { kind: 'seq', seq: s['id'] === 'B' ? 'B' : 'A', typeId: Number(s['type_id'] ?? 0) };
        }
        return fail(`post_processor template item ${JSON.stringify(x)} is neither SpecialToken nor Sequence`);
      };
      if (!Array.isArray(pp['single']) || !Array.isArray(pp['pair']))
        return fail('TemplateProcessing needs "single" and "pair" arrays');
      return { single: pp['single'].map(item), pair: pp['pair'].map(item) };
    }
    case 'BertProcessing':
    case 'RobertaProcessing': {
      // NOTE: BERT pairs are [CLS] A [SEP] B [SEP] with B and its [SEP] type 1. RoBERTa has one
      // token type (type_vocab_size 1): every position gets type 0, as transformers'
      // RobertaTokenizer does; pairs are <s> A </s></s> B </s>.
      const cls = pairTok(pp['cls'], 'cls');
      const sep = pairTok(pp['sep'], 'sep');
      const roberta = pp['type'] === 'RobertaProcessing';
      const bType = roberta ? 0 : 1;
      const special = (ids: number[], typeId = 0): TemplateItem => ({ kind: 'special', ids, typeId });
      const seq = (id: 'A' | 'B', typeId = 0): TemplateItem => ({ kind: 'seq', seq: id, typeId });
      return {
        single: [special([cls]), seq('A'), special([sep])],
        pair: [special([cls]), seq('A'), special(roberta ? [sep, sep] : [sep]), seq('B', bType), special([sep], bType)],
      };
    }
    case 'ByteLevel':
      // Only trims offsets: no special tokens.
      return parseTemplate(null, idOf, fail);
    case 'Sequence': {
      const procs = Array.isArray(pp['processors']) ? pp['processors'] : [];
      const adding = procs.filter((p) => isObj(p) && p['type'] !== 'ByteLevel');
      if (adding.length > 1)
        return fail('post_processor Sequence with more than one token-adding processor is not supported');
      return parseTemplate(adding[0] ?? null, idOf, fail);
    }
    default:
      return fail(
        `post_processor type ${JSON.stringify(pp['type'])} is not supported (TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, Sequence)`,
      );
  }
}
