/**
 * USE-lite's tokenizer as Hugging Face files (`tokenizer.json` + `tokenizer_config.json`), so that
 * transformers.js (`AutoTokenizer`), @huggingface/tokenizers and the Rust `tokenizers` crate
 * tokenize exactly as ./tokenizer.ts (= the package's own tokenizer) does:
 * - normalizer: NFKC, then "▁" prepended (not to an empty text: HF's Prepend skips empty input, as
 *   the package does) and every ASCII space replaced by "▁"; no pre-tokenizer (the whole text is
 *   one Viterbi lattice, as in the package);
 * - model: Unigram over vocab.json's `[piece, score]` list in id order (a null score is written as
 *   0, what the package computes with), `unk_id` 0, runs of unknown pieces fused (HF's Unigram
 *   fuses them too);
 * - post-processor: a single text is its ids only; a pair is `A </s> B` (./tokenizer.ts `encode`);
 * - padding with "<s>" (PAD_ID), never emitted for a text.
 * Differences that remain (never seen on the GLUE/SuperGLUE texts the tests check, see
 * test/export/use-lite-tokenizer.test.ts): HF breaks exact score ties towards the longer piece
 * (the package the shorter), scores an unknown character min - 10 (the package 0) and may match
 * the reserved pieces 0..5 when a text spells them out literally ("<s>").
 */
import { PAD_ID, RESERVED_PIECES, SEP_ID, UNK_ID, USE_LITE_MAX_LENGTH, type UseLiteVocabEntry } from './tokenizer.js';

/** The Unigram `tokenizer.json` of USE-lite's vocab.json entries (id order). */
export function useLiteTokenizerJson(vocab: readonly UseLiteVocabEntry[]): Record<string, unknown> {
  const sep = vocab[SEP_ID]![0];
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    // The reserved pieces (<s>, </s>, ...) as special added tokens: decoders skip them.
    added_tokens: vocab.slice(0, RESERVED_PIECES).map(([content], id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'NFKC' },
        { type: 'Prepend', prepend: '\u2581' },
        { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' },
      ],
    },
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ Sequence: { id: 'A', type_id: 0 } }],
      pair: [
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: sep, type_id: 0 } },
        { Sequence: { id: 'B', type_id: 0 } },
      ],
      special_tokens: { [sep]: { id: sep, ids: [SEP_ID], tokens: [sep] } },
    },
    decoder: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true },
    model: {
      type: 'Unigram',
      unk_id: UNK_ID,
      byte_fallback: false,
      // NOTE: null scores (pieces holding ":") are 0 in the package (`null + x === x`).
      vocab: vocab.map(([piece, score]) => [piece, score ?? 0]),
    },
  };
}

/** `tokenizer_config.json` for USE-lite: pad "<s>", sep "</s>", unk "�", 128 ids at most. */
export function useLiteTokenizerConfig(vocab: readonly UseLiteVocabEntry[]): Record<string, unknown> {
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    model_max_length: USE_LITE_MAX_LENGTH,
    padding_side: 'right',
    truncation_side: 'right',
    pad_token: vocab[PAD_ID]![0],
    sep_token: vocab[SEP_ID]![0],
    unk_token: vocab[UNK_ID]![0],
    clean_up_tokenization_spaces: false,
    model_input_names: ['input_ids', 'attention_mask'],
  };
}
