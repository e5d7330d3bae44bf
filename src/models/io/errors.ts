/**
 * Typed errors for checkpoint files (safetensors, config.json, tokenizer files, hub downloads).
 * Each carries the file (or model id) it is about; `message` is one line naming the file or field
 * and the fix, so the CLI can print it without a stack.
 */
import { UserError } from '../../core/errors.js';

/** Base class: something wrong with a model file that the user can fix. */
export class ModelFileError extends UserError {
  /** Path (or hub file name) the error is about. */
  readonly file: string;
  constructor(file: string, message: string) {
    super(message);
    this.name = 'ModelFileError';
    this.file = file;
  }
}

/** A safetensors file is malformed, truncated or holds an unsupported dtype. */
export class SafetensorsError extends ModelFileError {
  /** Tensor name the problem is about, when there is one. */
  readonly tensor: string | undefined;
  constructor(file: string, message: string, tensor?: string) {
    super(file, message);
    this.name = 'SafetensorsError';
    this.tensor = tensor;
  }
}

/** config.json is missing a field, has a wrong type, or describes an unsupported model. */
export class ModelConfigError extends ModelFileError {
  /** The config.json field at fault (empty when the whole file is). */
  readonly field: string;
  constructor(file: string, field: string, message: string) {
    super(file, message);
    this.name = 'ModelConfigError';
    this.field = field;
  }
}

/** Tokenizer files are missing or malformed, or an encode request is impossible. */
export class TokenizerError extends ModelFileError {
  constructor(file: string, message: string) {
    super(file, message);
    this.name = 'TokenizerError';
  }
}

/** The checkpoint's weights do not match its config (missing tensor, wrong shape). */
export class CheckpointError extends ModelFileError {
  readonly tensor: string | undefined;
  constructor(file: string, message: string, tensor?: string) {
    super(file, message);
    this.name = 'CheckpointError';
    this.tensor = tensor;
  }
}
