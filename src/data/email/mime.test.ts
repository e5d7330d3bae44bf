import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeHeader, decodeQuotedPrintable, emailText, htmlToText, parseContentType, parsePart } from './mime.js';

const bin = (s: string): string => Buffer.from(s, 'utf8').toString('latin1'); // as read from disk

test('headers unfold, first occurrence wins, body after the first blank line', () => {
  const p = parsePart(
    'From someone  Thu Aug 22 2002\nSubject: a long\n  folded subject\nX-A: 1\nx-a: 2\n\nbody\n\nmore',
  );
  assert.equal(p.headers.get('subject'), 'a long folded subject');
  assert.equal(p.headers.get('x-a'), '1');
  assert.equal(p.body, 'body\n\nmore');
});

test('content type, quoted-printable and RFC 2047 words', () => {
  assert.deepEqual(parseContentType('Multipart/Alternative; boundary="b=1;x"; charset=UTF-8'), {
    type: 'multipart/alternative',
    params: { boundary: 'b=1;x', charset: 'UTF-8' },
  });
  assert.deepEqual(parseContentType(undefined), { type: 'text/plain', params: {} });
  assert.equal(decodeQuotedPrintable('caf=C3=A9 soft=\nbreak'), 'caf\u00c3\u00a9 softbreak');
  assert.equal(decodeHeader('=?iso-8859-1?Q?Sitting_Bull_=FCber_alles?='), 'Sitting Bull über alles');
  assert.equal(decodeHeader('=?utf-8?B?w7xiZXI=?= =?utf-8?Q?_alles?= now'), 'über alles now');
  assert.equal(decodeHeader('=?iso-2022-jp?B?GyRCRnxLXDhsGyhC?='), '日本語');
});

test('HTML to text drops scripts, styles, comments and tags, decodes entities', () => {
  const t = htmlToText(
    '<html><style>p{}</style><script>var x=1;</script><!-- c --><p>Hi&nbsp;&amp; <b>bye</b>&#33;&#x21;</p></html>',
  );
  assert.equal(t.replace(/\s+/g, ' ').trim(), 'Hi & bye!!');
});

test('multipart: text/plain preferred, nested boundaries that extend the outer one, base64 + charset', () => {
  const html = Buffer.from('<p>Cheap <b>pills</b></p>', 'utf8').toString('base64');
  const raw = [
    'Subject: =?utf-8?Q?Hello_w=C3=B6rld?=',
    'Content-Type: multipart/mixed; boundary="XX"',
    '',
    'preamble',
    '--XX',
    'Content-Type: multipart/alternative; boundary="XXAA"',
    '',
    '--XXAA',
    'Content-Type: text/plain; charset=iso-8859-1',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'Gr=FC=DFe,',
    'the  team',
    '--XXAA',
    'Content-Type: text/html',
    'Content-Transfer-Encoding: base64',
    '',
    html,
    '--XXAA--',
    '--XX',
    'Content-Type: application/pdf',
    'Content-Transfer-Encoding: base64',
    '',
    'JVBERi0xLjQK',
    '--XX--',
    'epilogue',
  ].join('\r\n');
  assert.deepEqual(emailText(raw), { subject: 'Hello wörld', body: 'Grüße, the team' });
  // html only: reduced to text
  const onlyHtml = `Subject: x\nContent-Type: text/html; charset="DEFAULT"\n\n${bin('<html><body><h3>Free café</h3><br>now</body></html>')}`;
  assert.deepEqual(emailText(onlyHtml), { subject: 'x', body: 'Free café now' });
  // no charset, 8-bit latin-1 bytes (invalid UTF-8): Windows-1252 fallback
  assert.equal(emailText('Subject: y\n\nna\xefve \x93quotes\x94').body, 'naïve “quotes”');
});
