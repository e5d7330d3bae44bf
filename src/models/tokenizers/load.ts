/**
 * Load the tokenizer of a checkpoint folder: `tokenizer.json` when present; otherwise build it
 * from `vocab.txt` (BERT WordPiece, honouring tokenizer_config.json's do_lower_case,
 * strip_accents, tokenize_chinese_chars and special token names) or from `vocab.json` +
 * `merges.txt` (RoBERTa byte-level BPE).
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TokenizerError } from '../io/errors.js';
import { HfTokenizer, tokenText } from './hf.js';
import { readVocabTxt, wordPieceTokenizerJson } from './wordpiece.js';
import { byteLevelBpeTokenizerJson, parseMergesTxt } from './bpe.js';

export interface LoadTokenizerOptions {
  /** Fallback pad id (config.json's pad_token_id) when the tokenizer files name no pad token. */
  padId?: number;
  /** The model's type_vocab_size: template type ids must be below it. */
  typeVocabSize?: number;
  /** The model's vocab_size (embedding rows), reported as the tokenizer's vocabSize. */
  vocabSize?: number;
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new TokenizerError(
      path,
      `${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new TokenizerError(path, `${path}: not valid JSON (${(e as Error).message})`);
  }
}

/** Which tokenizer source a folder has, in order of preference; undefined when none. */
export function tokenizerSource(dir: string): 'tokenizer.json' | 'vocab.txt' | 'vocab.json+merges.txt' | undefined {
  if (existsSync(join(dir, 'tokenizer.json'))) return 'tokenizer.json';
  if (existsSync(join(dir, 'vocab.txt'))) return 'vocab.txt';
  if (existsSync(join(dir, 'vocab.json')) && existsSync(join(dir, 'merges.txt'))) return 'vocab.json+merges.txt';
  return undefined;
}

export async function loadTokenizer(dir: string, opts: LoadTokenizerOptions = {}): Promise<HfTokenizer> {
  const cfgPath = join(dir, 'tokenizer_config.json');
  const cfgRaw = existsSync(cfgPath) ? await readJson(cfgPath) : {};
  const cfg = (cfgRaw !== null && typeof cfgRaw === 'object' && !Array.isArray(cfgRaw) ? cfgRaw : {}) as Record<
    string,
    unknown
  >;
  const source = tokenizerSource(dir);
  const common = { padId: opts.padId, typeVocabSize: opts.typeVocabSize, vocabSize: opts.vocabSize };
  if (source === 'tokenizer.json') {
    const file = join(dir, 'tokenizer.json');
    return new HfTokenizer(await readJson(file), cfg, { ...common, file });
  }
  if (source === 'vocab.txt') {
    const file = join(dir, 'vocab.txt');
    const vocab = await readVocabTxt(file);
    const bool = (k: string): boolean | undefined => (typeof cfg[k] === 'boolean' ? (cfg[k] as boolean) : undefined);
    const json = wordPieceTokenizerJson(vocab, {
      file,
      lowercase: bool('do_lower_case'),
      stripAccents: bool('strip_accents'),
      tokenizeChineseChars: bool('tokenize_chinese_chars'),
      unkToken: tokenText(cfg['unk_token']),
      clsToken: tokenText(cfg['cls_token']),
      sepToken: tokenText(cfg['sep_token']),
      padToken: tokenText(cfg['pad_token']),
      maskToken: tokenText(cfg['mask_token']),
    });
    return new HfTokenizer(json, cfg, { ...common, file });
  }
  if (source === 'vocab.json+merges.txt') {
    const file = join(dir, 'vocab.json');
    const vocab = await readJson(file);
    if (vocab === null || typeof vocab !== 'object' || Array.isArray(vocab)) {
      throw new TokenizerError(file, `${file}: must be a JSON object of token -> id`);
    }
    const merges = parseMergesTxt(await readFile(join(dir, 'merges.txt'), 'utf8'));
    const json = byteLevelBpeTokenizerJson(vocab as Record<string, number>, merges, {
      file,
      bosToken: tokenText(cfg['bos_token']),
      eosToken: tokenText(cfg['eos_token']),
      unkToken: tokenText(cfg['unk_token']) ?? '<unk>',
      padToken: tokenText(cfg['pad_token']),
      maskToken: tokenText(cfg['mask_token']),
      addPrefixSpace: typeof cfg['add_prefix_space'] === 'boolean' ? cfg['add_prefix_space'] : undefined,
    });
    return new HfTokenizer(json, cfg, { ...common, file });
  }
  throw new TokenizerError(
    dir,
    `${dir}: no tokenizer files (tokenizer.json, vocab.txt, or vocab.json + merges.txt); copy the checkpoint's tokenizer files into the folder`,
  );
}
