/**
 * The one interface between tokenizers (models room) and the data room's batching.
 * Every backbone's tokenizer (WordPiece for BERT, byte-level BPE for RoBERTa, SentencePiece
 * unigram for USE-lite) implements it.
 */
export interface Encoding {
  /** Token ids including the model's special tokens ([CLS] ... [SEP] ... [SEP] for BERT). */
  inputIds: number[];
  /** Segment ids (0 for the first text, 1 for the second); all 0 for models without them. */
  tokenTypeIds: number[];
}

export interface Tokenizer {
  /** Vocabulary size (embedding rows). */
  readonly vocabSize: number;
  /** Id used to pad sequences in a batch (attention mask 0 there). */
  readonly padId: number;
  /**
   * Encode a text or a text pair, truncating to at most `maxLength` tokens in total (special
   * tokens included; for pairs the longer text is truncated first, as Hugging Face's
   * 'longest_first' does).
   */
  encode(text: string, pair?: string, maxLength?: number): Encoding;
}
