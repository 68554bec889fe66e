/** One character of a glob: a literal, `?`, a set (`[abc]`, `[^a-z]`), or `*` (any run). */
type GlobToken =
  | { kind: 'star' }
  | { kind: 'any' }
  | { kind: 'literal'; code: number }
  | { kind: 'set'; negated: boolean; ranges: [number, number][] };

/** A compiled Redis glob; `test` says whether a whole key matches it. */
export interface GlobMatcher {
  test(text: string): boolean;
}

/**
 * Compiles a Redis glob into a matcher that accepts exactly the keys `SCAN MATCH` (and `KEYS`)
 * would, quirks included, so stores other than Redis delete the same keys. It follows Redis's
 * `stringmatchlen`: `*`, `?`, `\x`; `[abc]`, `[^a]`, `[a-z]` (a reversed range is swapped, `\`
 * escapes inside a set, `[]` is an empty set, an unclosed set runs to the end of the pattern).
 *
 * Matching takes time proportional to the key's length times the pattern's, whatever the pattern:
 * patterns arrive from other instances and from the admin router, and a regular expression made of
 * several `.*` backtracks exponentially (a pattern of 18 characters froze a process for minutes).
 */
export function compileGlob(glob: string): GlobMatcher {
  const tokens = tokenize(glob);
  return { test: (text) => matches(tokens, text) };
}

/** Escapes Redis glob metacharacters so that `text` matches only itself. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

function tokenize(glob: string): GlobToken[] {
  const tokens: GlobToken[] = [];
  let i = 0;
  while (i < glob.length) {
    const char = glob[i] as string;
    if (char === '*') tokens.push({ kind: 'star' });
    else if (char === '?') tokens.push({ kind: 'any' });
    else if (char === '[') {
      const negated = glob[i + 1] === '^';
      i += negated ? 2 : 1;
      const ranges: [number, number][] = [];
      while (i < glob.length && glob[i] !== ']') {
        if (glob[i] === '\\' && i + 1 < glob.length) {
          i++;
          ranges.push([glob.charCodeAt(i), glob.charCodeAt(i)]);
        } else if (glob[i + 1] === '-' && i + 2 < glob.length) {
          const [low, high] = [glob.charCodeAt(i), glob.charCodeAt(i + 2)].sort((a, b) => a - b);
          ranges.push([low as number, high as number]);
          i += 2;
        } else ranges.push([glob.charCodeAt(i), glob.charCodeAt(i)]);
        i++;
      }
      tokens.push({ kind: 'set', negated, ranges });
    } else if (char === '\\' && i + 1 < glob.length) {
      i++;
      tokens.push({ kind: 'literal', code: glob.charCodeAt(i) });
    } else tokens.push({ kind: 'literal', code: glob.charCodeAt(i) });
    i++;
  }
  return tokens;
}

/** Whether `token` (not a star) accepts the one code unit `code`. */
function accepts(token: Exclude<GlobToken, { kind: 'star' }>, code: number): boolean {
  if (token.kind === 'any') return true;
  if (token.kind === 'literal') return token.code === code;
  const inSet = token.ranges.some(([low, high]) => code >= low && code <= high);
  return inSet !== token.negated;
}

/**
 * Every token but `*` takes exactly one code unit, so only the latest `*` needs revisiting when the
 * rest fails: on a mismatch, that star takes one more unit and matching resumes after it.
 */
function matches(tokens: readonly GlobToken[], text: string): boolean {
  let t = 0;
  let p = 0;
  let starAt = -1;
  let starTextAt = 0;
  while (t < text.length) {
    const token = tokens[p];
    if (token !== undefined && token.kind === 'star') {
      starAt = p++;
      starTextAt = t;
    } else if (token !== undefined && accepts(token, text.charCodeAt(t))) {
      p++;
      t++;
    } else if (starAt >= 0) {
      p = starAt + 1;
      t = ++starTextAt;
    } else return false;
  }
  while (tokens[p]?.kind === 'star') p++;
  return p === tokens.length;
}
