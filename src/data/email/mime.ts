/**
 * Just enough RFC 822 / MIME to turn a raw e-mail into readable text: unfolded headers, RFC 2047
 * encoded-word subjects, multipart bodies (text/plain preferred over text/html), base64 and
 * quoted-printable transfer encodings, declared charsets, and HTML reduced to its text.
 *
 * Raw messages are handled as "binary strings" (latin1: one char per byte) until a part's charset
 * is known, so 8-bit bodies decode with their own charset.
 */

export interface MimePart {
  /** Lower-cased header name -> unfolded value (first occurrence wins). */
  headers: Map<string, string>;
  /** The body as a binary string (one char per byte). */
  body: string;
}

/** Split a binary-string message (or part) at the first blank line and parse its headers. */
export function parsePart(raw: string): MimePart {
  const m = /\r?\n\r?\n/.exec(raw);
  const head = m === null ? raw : raw.slice(0, m.index);
  const body = m === null ? '' : raw.slice(m.index + m[0].length);
  const headers = new Map<string, string>();
  let name: string | undefined;
  let value = '';
  const flush = (): void => {
    if (name !== undefined && !headers.has(name)) headers.set(name, value.trim());
  };
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && name !== undefined) {
      value += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue; // mbox "From " line or junk
    flush();
    name = line.slice(0, colon).trim().toLowerCase();
    value = line.slice(colon + 1);
  }
  flush();
  return { headers, body };
}

/** Content-Type -> {type: 'text/plain', params: {charset, boundary, ...}} (lower-cased type and keys). */
export function parseContentType(value: string | undefined): { type: string; params: Record<string, string> } {
  if (value === undefined || value.trim() === '') return { type: 'text/plain', params: {} };
  const semi = value.indexOf(';');
  const type = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase() || 'text/plain';
  const params: Record<string, string> = {};
  // name=value pairs after the type; values may be quoted strings holding ';' or '='.
  const re = /;\s*([^=;\s]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^;]*)/g;
  const rest = semi < 0 ? '' : value.slice(semi);
  for (let m = re.exec(rest); m !== null; m = re.exec(rest)) {
    params[m[1].toLowerCase()] = m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : m[2].trim();
  }
  return { type, params };
}

/** Bytes (as a binary string or Uint8Array) -> text in `charset`; unknown or absent charsets try UTF-8, then Windows-1252. */
function decodeCharset(bytes: string | Uint8Array, charset: string | undefined): string {
  const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
  const cs = charset?.trim().toLowerCase();
  if (cs !== undefined && cs !== '' && cs !== 'default' && cs !== 'us-ascii' && cs !== 'ascii') {
    if (LATIN1_LABELS.has(cs)) return decodeWindows1252(buf);
    try {
      return new TextDecoder(cs).decode(buf);
    } catch {
      // unknown label: fall through
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    return decodeWindows1252(buf);
  }
}

// As the WHATWG Encoding Standard (and every mail client) does, Latin-1 labels mean Windows-1252.
const LATIN1_LABELS = new Set(['iso-8859-1', 'iso8859-1', 'latin1', 'l1', 'windows-1252', 'cp1252', 'x-cp1252']);
// Windows-1252 0x80..0x9F; 0 = undefined byte (kept as the C1 control, as WHATWG does).
const CP1252_HIGH = [
  0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0, 0,
  0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
];

/**
 * Windows-1252 decoding written out: Node 20's TextDecoder('windows-1252') decodes 0x80..0x9F
 * as Latin-1 C1 controls instead of the Windows-1252 characters (curly quotes, dashes, euro).
 */
function decodeWindows1252(buf: Uint8Array): string {
  let out = '';
  for (let i = 0; i < buf.length; i += 8192) {
    const codes = Array.from(buf.subarray(i, i + 8192), (b) =>
      b >= 0x80 && b <= 0x9f && CP1252_HIGH[b - 0x80] !== 0 ? CP1252_HIGH[b - 0x80] : b,
    );
    out += String.fromCharCode(...codes);
  }
  return out;
}

/** Quoted-printable -> binary string. Soft line breaks (`=` at line end) are removed. */
export function decodeQuotedPrintable(s: string): string {
  return s.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/** Decode RFC 2047 encoded-words (=?charset?B|Q?...?=) in a header value. */
export function decodeHeader(value: string): string {
  // Whitespace between two adjacent encoded-words is not part of the text.
  const joined = value.replace(/(\?=)\s+(=\?)/g, '$1$2');
  return joined.replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=/g, (_, cs: string, enc: string, text: string) => {
    const bytes =
      enc.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('latin1')
        : decodeQuotedPrintable(text.replace(/_/g, ' '));
    return decodeCharset(bytes, cs.split('*')[0]);
  });
}

const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  copy: '©',
  reg: '®',
  trade: '™',
  hellip: '…',
  mdash: '—',
  ndash: '–',
  rsquo: '’',
  lsquo: '‘',
  rdquo: '”',
  ldquo: '“',
  bull: '•',
  middot: '·',
  euro: '€',
  pound: '£',
};

/** HTML -> its visible text (scripts, styles and comments dropped; block tags become line breaks). */
export function htmlToText(html: string): string {
  return (
    html
      .replace(/<!--[\s\S]*?-->/g, ' ')
      .replace(/<(script|style|title)\b[\s\S]*?<\/\1\s*>/gi, ' ')
      .replace(/<\/?(br|p|div|tr|td|th|li|h[1-6]|table|center|blockquote)\b[^>]*>/gi, '\n')
      // Inline tags vanish without a space (<b>bye</b>! -> bye!); other tags become a space.
      .replace(/<\/?(b|i|u|em|strong|font|span|a|small|big|sup|sub)\b[^>]*>/gi, '')
      .replace(/<[^>]*>/g, ' ')
      .replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e: string) => {
        if (e[0] === '#') {
          const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
          return code > 0 && code < 0x110000 ? String.fromCodePoint(code) : ' ';
        }
        return ENTITIES[e.toLowerCase()] ?? m;
      })
  );
}

interface Leaf {
  type: string;
  text: string;
}

/** Collect decoded text leaves of a part (depth-limited against malformed nesting). */
function leaves(part: MimePart, out: Leaf[], depth: number): void {
  const ct = parseContentType(part.headers.get('content-type'));
  if (depth > 8) return;
  if (ct.type.startsWith('multipart/')) {
    const boundary = ct.params.boundary;
    if (boundary === undefined || boundary === '') {
      out.push({ type: 'text/plain', text: decodeCharset(part.body, undefined) });
      return;
    }
    // Delimiters are whole lines: '--boundary' (or '--boundary--' to close). Matching prefixes
    // would cut nested parts whose boundary extends this one (a common mailer pattern).
    const delim = `--${boundary}`;
    let current: string[] | undefined;
    for (const line of part.body.split(/\r?\n/)) {
      const t = line.trimEnd();
      if (t === delim || t === `${delim}--`) {
        if (current !== undefined) leaves(parsePart(current.join('\n')), out, depth + 1);
        if (t !== delim) return;
        current = [];
      } else if (current !== undefined) current.push(line);
    }
    if (current !== undefined) leaves(parsePart(current.join('\n')), out, depth + 1); // unclosed
    return;
  }
  if (ct.type === 'message/rfc822') {
    leaves(parsePart(part.body), out, depth + 1);
    return;
  }
  if (ct.type !== 'text/plain' && ct.type !== 'text/html') return;
  if ((part.headers.get('content-disposition') ?? '').toLowerCase().startsWith('attachment')) return;
  const cte = (part.headers.get('content-transfer-encoding') ?? '').trim().toLowerCase();
  let bytes = part.body;
  if (cte === 'base64') bytes = Buffer.from(bytes.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64').toString('latin1');
  else if (cte === 'quoted-printable') bytes = decodeQuotedPrintable(bytes);
  const text = decodeCharset(bytes, ct.params.charset);
  out.push({ type: ct.type, text: ct.type === 'text/html' ? htmlToText(text) : text });
}

/**
 * Subject and body text of a raw message (a binary string). The body is the text/plain parts
 * joined, or, when there are none, the text/html parts reduced to text. Whitespace is collapsed.
 */
export function emailText(raw: string): { subject: string; body: string } {
  const msg = parsePart(raw);
  const subject = collapse(decodeHeader(msg.headers.get('subject') ?? ''));
  const found: Leaf[] = [];
  leaves(msg, found, 0);
  const plain = found.filter((l) => l.type === 'text/plain');
  const chosen = plain.length > 0 ? plain : found;
  let body = chosen.map((l) => l.text).join('\n');
  // A text/plain part that is really HTML (common in spam) is reduced too.
  if (/<(html|body|p|br|font|table|a)\b/i.test(body)) body = htmlToText(body);
  return { subject, body: collapse(body) };
}

function collapse(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}
