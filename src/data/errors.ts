import { UserError } from '../core/errors.js';

/**
 * Errors a user can cause with data files or task specs. The message is one line that names the
 * file (and line, when known) or the spec field, then says how to fix it; the CLI prints only it.
 */
export class DataError extends UserError {
  override readonly name = 'DataError';
  /** The file the problem is in, when it is a file. */
  readonly file?: string;
  /** 1-based line in `file`, when known. */
  readonly line?: number;

  constructor(message: string, where: { file?: string; line?: number } = {}) {
    const loc =
      where.file === undefined ? '' : where.line === undefined ? `${where.file}: ` : `${where.file}:${where.line}: `;
    super(loc + message);
    if (where.file !== undefined) this.file = where.file;
    if (where.line !== undefined) this.line = where.line;
  }
}
