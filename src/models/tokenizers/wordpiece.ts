/**
 * Build a BERT WordPiece tokenizer.json from a `vocab.txt` (one token a line, id = line number,
 * 0-based), matching what transformers' BertTokenizerFast converter writes: BertNormalizer
 * (clean text, CJK spacing, lowercase + strip accents when uncased), BertPreTokenizer
 * (whitespace + punctuation split), WordPiece with the `##` continuation prefix and at most 100
 * characters a word, template `[CLS] $A [SEP]` / `[CLS] $A [SEP] $B:1 [SEP]:1`.
 */
import { readFile } from 'node:fs/promises';
import { TokenizerError } from '../io/errors.js';

export interface WordPieceOptions {
  /** Lowercase (uncased models). Default true, as BertTokenizer's do_lower_case. */
  lowercase?: boolean | undefined;
  /** Strip accents; default: same as `lowercase` (transformers' strip_accents=None). */
  stripAccents?: boolean | undefined;
  /** Put spaces around CJK ideographs. Default true. */
  tokenizeChineseChars?: boolean | undefined;
  unkToken?: string | undefined;
  clsToken?: string | undefined;
  sepToken?: string | undefined;
  padToken?: string | undefined;
  maskToken?: string | undefined;
  /** File name for error messages. */
  file?: string;
}

/**
 * Tokens of a vocab.txt text. NOTE: a trailing "\r" is stripped too (CRLF files), and the empty
 * string after the final newline is not a token.
 */
export function parseVocabTxt(text: string): string[] {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export async function readVocabTxt(path: string): Promise<string[]> {
  try {
    return parseVocabTxt(await readFile(path, 'utf8'));
  } catch (e) {
    throw new TokenizerError(
      path,
      `${path}: cannot read vocabulary (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
}

/** tokenizer.json object for a WordPiece vocabulary (`vocab[i]` has id i). */
export function wordPieceTokenizerJson(vocab: readonly string[], opts: WordPieceOptions = {}): Record<string, unknown> {
  const file = opts.file ?? 'vocab.txt';
  const lowercase = opts.lowercase ?? true;
  const names = {
    unk: opts.unkToken ?? '[UNK]',
    cls: opts.clsToken ?? '[CLS]',
    sep: opts.sepToken ?? '[SEP]',
    pad: opts.padToken ?? '[PAD]',
    mask: opts.maskToken ?? '[MASK]',
  };
  const ids: Record<string, number> = Object.create(null) as Record<string, number>;
  // Later duplicates win, as BertTokenizer.load_vocab does.
  vocab.forEach((tok, i) => {
    ids[tok] = i;
  });
  for (const key of ['unk', 'cls', 'sep'] as const) {
    if (ids[names[key]] === undefined) {
      throw new TokenizerError(
        file,
        `${file}: vocabulary has no ${names[key]} token; a BERT vocab.txt needs [UNK], [CLS] and [SEP] (or set the names in tokenizer_config.json)`,
      );
    }
  }
  const added = [names.pad, names.unk, names.cls, names.sep, names.mask]
    .filter((t) => ids[t] !== undefined)
    .map((t) => ({
      id: ids[t]!,
      content: t,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    }))
    .sort((x, y) => x.id - y.id);
  const cls = names.cls;
  const sep = names.sep;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: opts.tokenizeChineseChars ?? true,
      strip_accents: opts.stripAccents ?? null,
      lowercase,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: cls, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: sep, type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: cls, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: sep, type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: sep, type_id: 1 } },
      ],
      special_tokens: {
        [cls]: { id: cls, ids: [ids[cls]], tokens: [cls] },
        [sep]: { id: sep, ids: [ids[sep]], tokens: [sep] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: names.unk,
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: { ...ids },
    },
  };
}
