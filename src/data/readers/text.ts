/** Reading a text data file: its bytes, refused unless they can be UTF-8 text. */
import { readFileSync } from 'node:fs';
import { DataError } from '../errors.js';

/** The file's bytes, after `checkTextEncoding`; an unreadable file is a DataError naming it. */
export function readTextFile(path: string): Buffer {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new DataError(`cannot read file (${(e as NodeJS.ErrnoException).code ?? String(e)}); fix: check the path`, {
      file: path,
    });
  }
  checkTextEncoding(buf, path);
  return buf;
}

/**
 * Refuses bytes that are not UTF-8 text before they are parsed (and end up in a message): UTF-16/32
 * byte-order marks, and NUL bytes in the first 64 KiB (binary data, or UTF-16 without a BOM).
 */
function checkTextEncoding(buf: Buffer, path: string): void {
  const bom = (...b: number[]) => b.every((x, i) => buf[i] === x);
  const utf =
    bom(0xff, 0xfe, 0, 0) || bom(0, 0, 0xfe, 0xff) ? 'UTF-32' : bom(0xff, 0xfe) || bom(0xfe, 0xff) ? 'UTF-16' : '';
  if (utf) throw new DataError(`the file is ${utf} encoded (byte-order mark); fix: save it as UTF-8`, { file: path });
  const nul = buf.subarray(0, 65536).indexOf(0);
  if (nul >= 0)
    throw new DataError(
      `byte ${nul} is NUL: binary data or UTF-16 without a byte-order mark, not UTF-8 text; fix: save it as UTF-8 text`,
      { file: path },
    );
}
