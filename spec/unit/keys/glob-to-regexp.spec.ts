import { expect } from 'chai';
import fc from 'fast-check';
import { escapeGlob, globToRegExp } from '../../../src/keys/glob-to-regexp.js';

describe('globToRegExp', () => {
  const matches = (glob: string, text: string) => globToRegExp(glob).test(text);

  it('anchors the pattern at both ends', () => {
    expect(matches('user', 'user')).to.equal(true);
    expect(matches('user', 'a:user')).to.equal(false);
    expect(matches('user', 'user:1')).to.equal(false);
  });

  it('`*` matches any run, newlines included; `?` exactly one character', () => {
    expect(matches('a*z', 'az')).to.equal(true);
    expect(matches('a*z', 'a\nb\nz')).to.equal(true);
    expect(matches('a?z', 'a\nz')).to.equal(true);
    expect(matches('a?z', 'az')).to.equal(false);
  });

  it('supports sets, negated sets and ranges', () => {
    expect(matches('[abc]', 'b')).to.equal(true);
    expect(matches('[abc]', 'd')).to.equal(false);
    expect(matches('[^abc]', 'd')).to.equal(true);
    expect(matches('[^abc]', 'a')).to.equal(false);
    expect(matches('[0-9]', '5')).to.equal(true);
    expect(matches('[0-9]', 'x')).to.equal(false);
  });

  // Redis quirks, checked against a real Redis in spec/integration/store/glob-matching.spec.ts.
  it('reads `[]` as an empty set that matches nothing, and `[^]` as any one character', () => {
    expect(matches('[]]', ']')).to.equal(false);
    expect(matches('x[]', 'x')).to.equal(false);
    expect(matches('[^]', ']')).to.equal(true);
  });

  it('runs an unclosed set to the end of the pattern', () => {
    expect(matches('a[bc', 'ab')).to.equal(true);
    expect(matches('a[bc', 'a[bc')).to.equal(false);
    expect(matches('[', '[')).to.equal(false);
  });

  it('swaps a reversed range instead of failing', () => {
    expect(() => globToRegExp('[z-a]')).to.not.throw();
    expect(matches('[z-a]', 'm')).to.equal(true);
  });

  it('escapes with a backslash inside a set', () => {
    expect(matches('[\\]', ']')).to.equal(true);
    expect(matches('[\\]]', ']')).to.equal(true);
    expect(matches('[\\]]', '\\')).to.equal(false);
  });

  it('a backslash escapes the next character; a trailing backslash is literal', () => {
    expect(matches('a\\*', 'a*')).to.equal(true);
    expect(matches('a\\*', 'ab')).to.equal(false);
    expect(matches('a\\', 'a\\')).to.equal(true);
  });

  it('escapes characters that are special in regular expressions, also inside sets', () => {
    expect(matches('a.b(c)|d+$^{1}/-', 'a.b(c)|d+$^{1}/-')).to.equal(true);
    expect(matches('a.b', 'axb')).to.equal(false);
    expect(matches('[.]', 'x')).to.equal(false);
    expect(matches('[.^]', '^')).to.equal(true);
  });

  it('escapeGlob makes any text match only itself', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (text, other) => {
        const matcher = globToRegExp(escapeGlob(text));
        expect(matcher.test(text)).to.equal(true);
        if (other !== text) expect(matcher.test(other)).to.equal(false);
      }),
    );
  });

  it('an escaped prefix followed by `*` matches exactly the keys that start with the prefix', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string(), (prefix, key) => {
        const matcher = globToRegExp(`${escapeGlob(prefix)}*`);
        expect(matcher.test(key)).to.equal(key.startsWith(prefix));
      }),
    );
  });
});
