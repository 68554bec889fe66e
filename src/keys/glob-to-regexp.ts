/**
 * Translates a Redis glob into an anchored RegExp that matches exactly the keys `SCAN MATCH` (and
 * `KEYS`) would, quirks included, so stores other than Redis delete the same keys. It follows
 * Redis's `stringmatchlen`: `*`, `?`, `\x`; `[abc]`, `[^a]`, `[a-z]` (a reversed range is swapped,
 * `\` escapes inside a set, `[]` is an empty set, an unclosed set runs to the end of the pattern).
 */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  let i = 0;
  while (i < glob.length) {
    const char = glob[i] as string;
    if (char === '*') source += '[\\s\\S]*';
    else if (char === '?') source += '[\\s\\S]';
    else if (char === '[') {
      const negated = glob[i + 1] === '^';
      i += negated ? 2 : 1;
      let members = '';
      while (i < glob.length && glob[i] !== ']') {
        if (glob[i] === '\\' && i + 1 < glob.length) {
          members += literal(glob[++i] as string);
        } else if (glob[i + 1] === '-' && i + 2 < glob.length) {
          const [low, high] = [glob.charCodeAt(i), glob.charCodeAt(i + 2)].sort((a, b) => a - b);
          members += `${codeUnit(low as number)}-${codeUnit(high as number)}`;
          i += 2;
        } else members += literal(glob[i] as string);
        i++;
      }
      if (members === '') source += negated ? '[\\s\\S]' : '(?!)';
      else source += `[${negated ? '^' : ''}${members}]`;
    } else if (char === '\\' && i + 1 < glob.length) source += literal(glob[++i] as string);
    else source += literal(char);
    i++;
  }
  return new RegExp(`^${source}$`);
}

/** Escapes Redis glob metacharacters so that `text` matches only itself. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

function literal(char: string): string {
  return codeUnit(char.charCodeAt(0));
}

function codeUnit(code: number): string {
  return `\\u${code.toString(16).padStart(4, '0')}`;
}
