/**
 * How an error message quotes what it found in a user's file: a short, escaped excerpt, so a
 * binary file, a 1 MB line or a terminal escape sequence never reaches the terminal as is.
 */

/** At most `max` characters of `text` in double quotes, control characters escaped (\n, \t, \x1b, \u2028), `...` when cut. */
export function excerpt(text: string, max = 60): string {
  let out = '';
  let n = 0;
  for (const ch of text) {
    if (n === max) return `"${out}..."`;
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || (c >= 0x7f && c < 0xa0)) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c === 0x2028 || c === 0x2029 || c === 0xfeff) out += `\\u${c.toString(16)}`;
    else out += ch;
    n++;
  }
  return `"${out}"`;
}
