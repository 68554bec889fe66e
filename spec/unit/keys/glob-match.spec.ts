import { expect } from 'chai';
import fc from 'fast-check';
import { compileGlob, escapeGlob } from '../../../src/keys/glob-match.js';

describe('compileGlob', () => {
  /** Expects `glob` to match each of `texts.matches` and none of `texts.misses`. */
  function expectGlob(glob: string, texts: { matches?: string[]; misses?: string[] }): void {
    const matcher = compileGlob(glob);
    for (const text of texts.matches ?? []) {
      expect(matcher.test(text), `${glob} matches ${JSON.stringify(text)}`).to.equal(true);
    }
    for (const text of texts.misses ?? []) {
      expect(matcher.test(text), `${glob} does not match ${JSON.stringify(text)}`).to.equal(false);
    }
  }

  it('matches in time linear in the pattern, where a regular expression backtracks exponentially', function () {
    // With `*` as `[\s\S]*` in a RegExp, this pattern against this key took 83 s (8 wildcards).
    this.timeout(10_000);
    const key = `/${'a'.repeat(60)}`;
    for (let wildcards = 1; wildcards <= 12; wildcards++) {
      expectGlob(`/*${'a*'.repeat(wildcards)}b`, { misses: [key] });
      expectGlob(`/*${'a*'.repeat(wildcards)}`, { matches: [key] });
    }
  });

  it('anchors the pattern at both ends', () => {
    expectGlob('user', { matches: ['user'], misses: ['a:user', 'user:1'] });
  });

  it('`*` matches any run, newlines included; `?` exactly one character', () => {
    expectGlob('a*z', { matches: ['az', 'a\nb\nz'] });
    expectGlob('a?z', { matches: ['a\nz'], misses: ['az'] });
  });

  it('supports sets, negated sets and ranges', () => {
    expectGlob('[abc]', { matches: ['b'], misses: ['d'] });
    expectGlob('[^abc]', { matches: ['d'], misses: ['a'] });
    expectGlob('[0-9]', { matches: ['5'], misses: ['x'] });
  });

  // Redis quirks, checked against a real Redis in spec/integration/store/glob-matching.spec.ts.
  it('reads `[]` as an empty set that matches nothing, and `[^]` as any one character', () => {
    expectGlob('[]]', { misses: [']'] });
    expectGlob('x[]', { misses: ['x'] });
    expectGlob('[^]', { matches: [']'] });
  });

  it('runs an unclosed set to the end of the pattern', () => {
    expectGlob('a[bc', { matches: ['ab'], misses: ['a[bc'] });
    expectGlob('[', { misses: ['['] });
  });

  it('swaps a reversed range instead of failing', () => {
    expect(() => compileGlob('[z-a]')).to.not.throw();
    expectGlob('[z-a]', { matches: ['m'] });
  });

  it('escapes with a backslash inside a set', () => {
    expectGlob('[\\]', { matches: [']'] });
    expectGlob('[\\]]', { matches: [']'], misses: ['\\'] });
  });

  it('a backslash escapes the next character; a trailing backslash is literal', () => {
    expectGlob('a\\*', { matches: ['a*'], misses: ['ab'] });
    expectGlob('a\\', { matches: ['a\\'] });
  });

  it('escapes characters that are special in regular expressions, also inside sets', () => {
    expectGlob('a.b(c)|d+$^{1}/-', { matches: ['a.b(c)|d+$^{1}/-'] });
    expectGlob('a.b', { misses: ['axb'] });
    expectGlob('[.]', { misses: ['x'] });
    expectGlob('[.^]', { matches: ['^'] });
  });

  it('escapeGlob makes any text match only itself', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (text, other) => {
        const matcher = compileGlob(escapeGlob(text));
        expect(matcher.test(text)).to.equal(true);
        if (other !== text) expect(matcher.test(other)).to.equal(false);
      }),
    );
  });

  it('an escaped prefix followed by `*` matches exactly the keys that start with the prefix', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string(), (prefix, key) => {
        const matcher = compileGlob(`${escapeGlob(prefix)}*`);
        expect(matcher.test(key)).to.equal(key.startsWith(prefix));
      }),
    );
  });
});
