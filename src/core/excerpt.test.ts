import { test } from 'node:test';
import assert from 'node:assert/strict';
import { excerpt } from './excerpt.js';

test('excerpt: quoted, control characters escaped, cut at max characters', () => {
  assert.equal(excerpt('good'), '"good"');
  assert.equal(excerpt('a\tb\nc\r\x00\x1b[2J\x7f'), '"a\\tb\\nc\\r\\x00\\x1b[2J\\x7f"');
  assert.equal(excerpt('say "hi" \\'), '"say \\"hi\\" \\\\"');
  assert.equal(excerpt('x'.repeat(1 << 20)), `"${'x'.repeat(60)}..."`);
  assert.equal(excerpt('abcdef', 3), '"abc..."');
  assert.equal(excerpt('\u2028\ufeff'), '"\\u2028\\ufeff"');
  // Counted in characters, not UTF-16 units: an emoji is never cut in half.
  assert.equal(excerpt('😀😀😀', 2), '"😀😀..."');
  for (const s of ['\x00\x01\x02', 'é\x1b', '\u0085'])
    assert.ok(
      ![...excerpt(s)].some((ch) => ch.charCodeAt(0) < 0x20 || (ch.charCodeAt(0) >= 0x7f && ch.charCodeAt(0) < 0xa0)),
    );
});
