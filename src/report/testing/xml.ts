/**
 * A tiny strict XML parser for tests: enough of XML 1.0 to prove an SVG is well-formed (one root,
 * balanced tags, quoted unique attributes, only defined entities, no stray '<' or '&') and to query
 * the resulting tree. Not a general parser: no DTDs, no namespaces resolution.
 */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Concatenated character data directly inside this element. */
  text: string;
}

export class XmlError extends Error {}

const NAME = /^[A-Za-z_:][A-Za-z0-9_:.-]*/;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(s: string, at: number): string {
  return s.replace(/&([^;\s&<]*);|&/g, (_m, ent: string | undefined) => {
    if (ent === undefined) throw new XmlError(`bare '&' near offset ${at}`);
    if (ent in ENTITIES) return ENTITIES[ent];
    const num = /^#(x[0-9a-fA-F]+|[0-9]+)$/.exec(ent);
    if (num) return String.fromCodePoint(num[1][0] === 'x' ? parseInt(num[1].slice(1), 16) : Number(num[1]));
    throw new XmlError(`undefined entity &${ent}; near offset ${at}`);
  });
}

/** Parses `src`; throws XmlError on the first well-formedness violation. */
export function parseXml(src: string): XmlElement {
  let i = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  const skipWs = (): void => {
    while (i < src.length && /\s/.test(src[i])) i++;
  };
  if (src.startsWith('<?xml')) {
    const e = src.indexOf('?>');
    if (e < 0) throw new XmlError('unterminated XML declaration');
    i = e + 2;
  }
  while (i < src.length) {
    if (src.startsWith('<!--', i)) {
      const e = src.indexOf('-->', i + 4);
      if (e < 0) throw new XmlError(`unterminated comment at ${i}`);
      if (src.slice(i + 4, e).includes('--')) throw new XmlError(`'--' inside a comment at ${i}`);
      i = e + 3;
      continue;
    }
    if (src.startsWith('<![CDATA[', i)) {
      if (stack.length === 0) throw new XmlError(`CDATA outside the root at ${i}`);
      const e = src.indexOf(']]>', i);
      if (e < 0) throw new XmlError(`unterminated CDATA at ${i}`);
      stack[stack.length - 1].text += src.slice(i + 9, e);
      i = e + 3;
      continue;
    }
    if (src.startsWith('</', i)) {
      i += 2;
      const m = NAME.exec(src.slice(i));
      if (!m) throw new XmlError(`bad closing tag at ${i}`);
      i += m[0].length;
      skipWs();
      if (src[i] !== '>') throw new XmlError(`expected '>' at ${i}`);
      i++;
      const open = stack.pop();
      if (!open || open.name !== m[0]) throw new XmlError(`</${m[0]}> does not close <${open?.name ?? '(nothing)'}>`);
      continue;
    }
    if (src[i] === '<') {
      i++;
      const m = NAME.exec(src.slice(i));
      if (!m) throw new XmlError(`bad tag name at ${i}`);
      i += m[0].length;
      const el: XmlElement = { name: m[0], attrs: {}, children: [], text: '' };
      for (;;) {
        const before = i;
        skipWs();
        if (src.startsWith('/>', i) || src[i] === '>') break;
        if (i === before) throw new XmlError(`attributes of <${el.name}> must be separated by white space at ${i}`);
        const a = NAME.exec(src.slice(i));
        if (!a) throw new XmlError(`bad attribute in <${el.name}> at ${i}`);
        i += a[0].length;
        skipWs();
        if (src[i] !== '=') throw new XmlError(`attribute ${a[0]} of <${el.name}> has no value`);
        i++;
        skipWs();
        const q = src[i];
        if (q !== '"' && q !== "'") throw new XmlError(`attribute ${a[0]} of <${el.name}> is not quoted`);
        const e = src.indexOf(q, i + 1);
        if (e < 0) throw new XmlError(`unterminated attribute ${a[0]}`);
        const raw = src.slice(i + 1, e);
        if (raw.includes('<')) throw new XmlError(`'<' in attribute ${a[0]} of <${el.name}>`);
        if (a[0] in el.attrs) throw new XmlError(`duplicate attribute ${a[0]} in <${el.name}>`);
        el.attrs[a[0]] = decode(raw, i);
        i = e + 1;
      }
      if (stack.length > 0) stack[stack.length - 1].children.push(el);
      else if (root) throw new XmlError(`second root element <${el.name}>`);
      else root = el;
      if (src.startsWith('/>', i)) i += 2;
      else {
        i++;
        stack.push(el);
      }
      continue;
    }
    const e = src.indexOf('<', i);
    const chunk = src.slice(i, e < 0 ? src.length : e);
    if (stack.length === 0) {
      if (chunk.trim() !== '') throw new XmlError(`text outside the root element at ${i}`);
    } else {
      if (chunk.includes('>') && chunk.includes(']]>')) throw new XmlError(`']]>' in text at ${i}`);
      stack[stack.length - 1].text += decode(chunk, i);
    }
    i = e < 0 ? src.length : e;
  }
  if (stack.length > 0) throw new XmlError(`<${stack[stack.length - 1].name}> is never closed`);
  if (!root) throw new XmlError('no root element');
  return root;
}

/** Every element under (and including) `root` that satisfies `pred`, in document order. */
export function findAll(root: XmlElement, pred: (e: XmlElement) => boolean): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (e: XmlElement): void => {
    if (pred(e)) out.push(e);
    e.children.forEach(walk);
  };
  walk(root);
  return out;
}

/** Whether `e`'s class attribute contains `cls`. */
export const hasClass = (e: XmlElement, cls: string): boolean => (e.attrs.class ?? '').split(/\s+/).includes(cls);

/** All text under `e`, depth first. */
export function allText(e: XmlElement): string {
  return e.text + e.children.map(allText).join('');
}
