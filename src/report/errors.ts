import { UserError } from '../core/errors.js';

/**
 * Errors a report caller can cause (inconsistent ReportData, unwritable output directory). One line,
 * naming the field or path and the fix, so the CLI can print it as is.
 */
export class ReportError extends UserError {
  constructor(
    /** The offending field (`trials[3].metric`) or path. */
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'ReportError';
  }
}
