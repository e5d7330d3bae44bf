/**
 * Build a RoBERTa byte-level BPE tokenizer.json from the "slow" files `vocab.json` (token -> id)
 * and `merges.txt` (one merge "a b" a line, after a "#version" line), as transformers'
 * RobertaTokenizerFast converter does: ByteLevel pre-tokenizer (GPT-2 regex, no prefix space),
 * BPE without unk, RobertaProcessing `<s> A </s>` / `<s> A </s></s> B </s>`.
 */
import { TokenizerError } from '../io/errors.js';

/**
 * GPT-2's reversible byte -> printable character map: printable Latin-1 bytes map to themselves,
 * the other 68 bytes to U+0100 onwards (so a space is "Ġ" = U+0120).
 */
export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const out = new Array<string>(256);
  for (const b of bs) out[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (out[b] === undefined) out[b] = String.fromCharCode(256 + n++);
  }
  return out;
}

export function parseMergesTxt(text: string): string[] {
  return text
    .split('\n')
    .map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l))
    .filter((l) => l.length > 0 && !l.startsWith('#version'));
}

export interface ByteLevelBpeOptions {
  bosToken?: string | undefined;
  eosToken?: string | undefined;
  unkToken?: string;
  padToken?: string | undefined;
  maskToken?: string | undefined;
  /** Add a space before the first word (RoBERTa: false). */
  addPrefixSpace?: boolean | undefined;
  file?: string;
}

/** tokenizer.json object for byte-level BPE with RoBERTa's special tokens. */
export function byteLevelBpeTokenizerJson(
  vocab: Readonly<Record<string, number>>,
  merges: readonly string[],
  opts: ByteLevelBpeOptions = {},
): Record<string, unknown> {
  const file = opts.file ?? 'vocab.json';
  const bos = opts.bosToken ?? '<s>';
  const eos = opts.eosToken ?? '</s>';
  const specials = [bos, opts.padToken ?? '<pad>', eos, opts.unkToken ?? '<unk>', opts.maskToken ?? '<mask>'];
  for (const t of [bos, eos]) {
    if (vocab[t] === undefined)
      throw new TokenizerError(file, `${file}: vocabulary has no ${t} token; RoBERTa needs <s> and </s>`);
  }
  for (const m of merges) {
    if (m.split(' ').length !== 2) throw new TokenizerError(file, `merges.txt: line ${JSON.stringify(m)} is not "a b"`);
  }
  const added = specials
    .filter((t) => vocab[t] !== undefined)
    .map((t) => ({
      id: vocab[t]!,
      content: t,
      single_word: false,
      lstrip: t === (opts.maskToken ?? '<mask>'),
      rstrip: false,
      normalized: false,
      special: true,
    }));
  const prefix = opts.addPrefixSpace ?? false;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: prefix, trim_offsets: true, use_regex: true },
    post_processor: {
      type: 'RobertaProcessing',
      sep: [eos, vocab[eos]],
      cls: [bos, vocab[bos]],
      trim_offsets: true,
      add_prefix_space: prefix,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: opts.unkToken && vocab[opts.unkToken] !== undefined ? opts.unkToken : null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab: { ...vocab },
      merges: [...merges],
    },
  };
}
