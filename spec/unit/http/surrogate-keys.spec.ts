import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { expect } from 'chai';
import { stripSurrogateHeadersWhenHeadersGo, surrogateKeysOf } from '../../../src/http/surrogate-keys.js';
import { CacheOptionError } from '../../../src/index.js';

/** A response that is never sent anywhere: its headers, and what `writeHead` does to them. */
function response(headers: Record<string, string | number | string[]> = {}): ServerResponse {
  const res = new ServerResponse(new IncomingMessage(new Socket()));
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  return res;
}

describe('surrogateKeysOf', () => {
  it('splits Surrogate-Key on spaces and tabs, Cache-Tag on commas, ignoring empty parts', () => {
    const res = response({ 'Surrogate-Key': ' a  b\tc ', 'Cache-Tag': ',d , e,,f,' });
    expect(surrogateKeysOf(res)).to.deep.equal(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('reads repeated headers and numbers, keeping each tag once and its case', () => {
    const res = response({ 'Surrogate-Key': ['a B', 'c'], 'Cache-Tag': ['B,a', 'b'] });
    expect(surrogateKeysOf(res)).to.deep.equal(['a', 'B', 'c', 'b']);
    expect(surrogateKeysOf(response({ 'Surrogate-Key': 42 }))).to.deep.equal(['42']);
    expect(surrogateKeysOf(response({ 'Cache-Tag': ' , ' }))).to.deep.equal([]);
    expect(surrogateKeysOf(response())).to.deep.equal([]);
  });

  it('takes tags up to 1,024 characters and headers up to 16,384, and refuses longer ones', () => {
    const longest = 'x'.repeat(1024);
    expect(surrogateKeysOf(response({ 'Surrogate-Key': longest }))).to.deep.equal([longest]);
    const fullHeader = Array.from({ length: 16 }, (_, index) => `${index}`.padEnd(1023, 'y')).join(' ');
    expect(fullHeader).to.have.length(16_383);
    expect(surrogateKeysOf(response({ 'Surrogate-Key': fullHeader }))).to.have.length(16);
    const tooLong: Record<string, string | string[]>[] = [
      { 'Surrogate-Key': `a ${'x'.repeat(1025)}` },
      { 'Cache-Tag': `a,${'x'.repeat(1025)}` },
      { 'Cache-Tag': Array.from({ length: 17 }, () => 'y'.repeat(1000)) },
    ];
    for (const headers of tooLong) {
      expect(() => surrogateKeysOf(response(headers)), JSON.stringify(headers).slice(0, 40)).to.throw(
        CacheOptionError,
      );
    }
  });

  it('keeps the values it strips as the headers go out, writeHead arguments included', () => {
    const res = response({ 'Surrogate-Key': 'a b', 'X-Other': 'kept' });
    stripSurrogateHeadersWhenHeadersGo(res);
    res.writeHead(200, { 'Cache-Tag': 'c' });
    expect(res.hasHeader('surrogate-key')).to.equal(false);
    expect(res.hasHeader('cache-tag')).to.equal(false);
    expect(res.getHeader('x-other')).to.equal('kept');
    expect(surrogateKeysOf(res)).to.deep.equal(['a', 'b', 'c']);
    // Once they went out, a second call is Node's error, and what was kept stays.
    expect(() => res.writeHead(200)).to.throw(/ERR_HTTP_HEADERS_SENT|after they are sent/);
    expect(surrogateKeysOf(res)).to.deep.equal(['a', 'b', 'c']);
  });
});
