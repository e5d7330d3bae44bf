import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XmlError, allText, findAll, parseXml } from './xml.js';

test('parseXml accepts well-formed documents and builds the tree', () => {
  const r = parseXml(
    '<?xml version="1.0"?>\n<svg a="1" b=\'x &amp; y\'><g><title>a &lt; b</title><circle r="2"/></g><!-- c --></svg>\n',
  );
  assert.equal(r.name, 'svg');
  assert.equal(r.attrs.b, 'x & y');
  assert.equal(findAll(r, (e) => e.name === 'circle').length, 1);
  assert.equal(allText(r), 'a < b');
});

test('parseXml rejects each kind of malformed input', () => {
  const bad = [
    '<a><b></a></b>', // crossed tags
    '<a>', // unclosed
    '<a x=1/>', // unquoted attribute
    '<a x="1" x="2"/>', // duplicate attribute
    '<a>fish & chips</a>', // bare ampersand
    '<a>&nbsp;</a>', // undefined entity
    '<a/><b/>', // two roots
    'text<a/>', // text outside the root
    '<a x="<"/>', // '<' in an attribute
    '<a x="1"y="2"/>', // no space between attributes
    '', // no root
  ];
  for (const s of bad) assert.throws(() => parseXml(s), XmlError, s);
});
