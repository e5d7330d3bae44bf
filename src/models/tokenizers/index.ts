export type { Tokenizer, Encoding } from './types.js';
export { HfTokenizer, truncateLongestFirst, type HfTokenizerOptions } from './hf.js';
export { wordPieceTokenizerJson, parseVocabTxt, readVocabTxt, type WordPieceOptions } from './wordpiece.js';
export { byteLevelBpeTokenizerJson, bytesToUnicode, parseMergesTxt, type ByteLevelBpeOptions } from './bpe.js';
export { loadTokenizer, tokenizerSource, type LoadTokenizerOptions } from './load.js';
