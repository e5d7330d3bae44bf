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
      value += ' ' + line.trim();
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
  const [first, ...rest] = value.split(';');
  const params: Record<string, string> = {};
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    let v = p.slice(eq + 1).trim();
    if (v.startsWith('"')) v = v.slice(1, v.indexOf('"', 1) > 0 ? v.indexOf('"', 1) : undefined);
    params[p.slice(0, eq).trim().toLowerCase()] = v;
  }
  return { type: first.trim().toLowerCase() || 'text/plain', params };
}

/** Bytes (as a binary string or Uint8Array) -> text in `charset`; unknown or absent charsets try UTF-8, then Windows-1252. */
export function decodeCharset(bytes: string | Uint8Array, charset: string | undefined): string {
  const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
  const cs = charset?.trim().toLowerCase();
  if (cs !== undefined && cs !== '' && cs !== 'default' && cs !== 'us-ascii' && cs !== 'ascii') {
    try {
      return new TextDecoder(cs).decode(buf);
    } catch {
      // unknown label: fall through
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    return new TextDecoder('windows-1252').decode(buf);
  }
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
    const bytes = enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('latin1') : decodeQuotedPrintable(text.replace(/_/g, ' '));
    return decodeCharset(bytes, cs.split('*')[0]);
  });
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', copy: '©', reg: '®', trade: '™', hellip: '…', mdash: '—', ndash: '–', rsquo: '’', lsquo: '‘', rdquo: '”', ldquo: '“', bull: '•', middot: '·', euro: '€', pound: '£' };

/** HTML -> its visible text (scripts, styles and comments dropped; block tags become line breaks). */
export function htmlToText(html: string): string {
  return html
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<(script|style|title)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<(br|p|div|tr|li|h[1-6]|table|center|blockquote)\b[^>]*>/gi, '\n')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e: string) => {
      if (e[0] === '#') {
        const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return code > 0 && code < 0x110000 ? String.fromCodePoint(code) : ' ';
      }
      return ENTITIES[e.toLowerCase()] ?? m;
    });
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
    const delim = '--' + boundary;
    let current: string[] | undefined;
    for (const line of part.body.split(/\r?\n/)) {
      const t = line.trimEnd();
      if (t === delim || t === delim + '--') {
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
