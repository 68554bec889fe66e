import type { IncomingMessage } from 'node:http';
import { expect } from 'chai';
import { setConditionalHeaders } from '../../../src/http/conditional-headers.js';

/** A request as Node builds it: the same fields in `headers` and, as sent, in `rawHeaders`. */
function requestWith(raw: string[]): IncomingMessage {
  const headers: Record<string, string> = {};
  for (let index = 0; index < raw.length; index += 2) {
    headers[(raw[index] as string).toLowerCase()] = raw[index + 1] as string;
  }
  return { headers, rawHeaders: [...raw] } as unknown as IncomingMessage;
}

const NONE = { 'if-none-match': undefined, 'if-modified-since': undefined };

describe('setConditionalHeaders', () => {
  it('leaves a request without validators as Node built it', () => {
    const req = requestWith(['Host', 'example.test', 'Accept', '*/*']);
    const raw = req.rawHeaders;
    setConditionalHeaders(req, NONE);
    expect(req.rawHeaders).to.equal(raw);
    expect(req.headers).to.deep.equal({ host: 'example.test', accept: '*/*' });
  });

  it('removes the validators from both lists, whatever their case', () => {
    const req = requestWith(['Host', 'example.test', 'IF-None-Match', '"a"', 'If-Modified-Since', 'x']);
    setConditionalHeaders(req, NONE);
    expect(req.rawHeaders).to.deep.equal(['Host', 'example.test']);
    expect(req.headers).to.deep.equal({ host: 'example.test' });
  });

  it('removes a validator a middleware left in the raw lines only (a proxy forwards those)', () => {
    const req = requestWith(['Host', 'example.test', 'If-None-Match', '"a"']);
    delete req.headers['if-none-match'];
    setConditionalHeaders(req, NONE);
    expect(req.rawHeaders).to.deep.equal(['Host', 'example.test']);
  });

  it('sets the conditions it is given in both lists', () => {
    const req = requestWith(['Host', 'example.test']);
    setConditionalHeaders(req, { 'if-none-match': '"b"', 'if-modified-since': undefined });
    expect(req.headers['if-none-match']).to.equal('"b"');
    expect(req.rawHeaders).to.deep.equal(['Host', 'example.test', 'if-none-match', '"b"']);
  });
});
