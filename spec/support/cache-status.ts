/** A parameter value of a `Cache-Status` member (RFC 8941 bare item): integer, string, token or boolean. */
type CacheStatusValue = number | string | boolean;

/** One member of a `Cache-Status` list (RFC 9211 §2): the cache's identifier and its parameters. */
export interface CacheStatusEntry {
  /** The cache identifier, a token or a string (quotes removed). */
  cache: string;
  /** Parameters in order; a parameter without a value is `true` (RFC 8941 §3.1.2). */
  params: Map<string, CacheStatusValue>;
}

/**
 * Parses a `Cache-Status` field (RFC 9211 §2: an RFC 8941 List of token or string items with
 * parameters) into its members, first (nearest the origin) to last (nearest the client). Several field
 * lines are one list. Throws on anything that is not a valid list, so a malformed field fails the spec.
 */
export function parseCacheStatus(field: string | readonly string[] | undefined): CacheStatusEntry[] {
  if (field === undefined) return [];
  const text = typeof field === 'string' ? field : field.join(', ');
  const parser = new Parser(text);
  const members: CacheStatusEntry[] = [];
  parser.skipSpaces();
  if (parser.done()) return members;
  for (;;) {
    members.push(parser.member());
    parser.skipSpaces();
    if (parser.done()) return members;
    parser.expect(',');
    parser.skipSpaces();
    if (parser.done()) throw new SyntaxError(`Cache-Status ends with a comma: ${JSON.stringify(text)}`);
  }
}

/** Our member: the last one (RFC 9211 §2: each cache appends its own). */
export function lastCacheStatus(field: string | readonly string[] | undefined): CacheStatusEntry | undefined {
  const members = parseCacheStatus(field);
  return members[members.length - 1];
}

const TOKEN_START = /[A-Za-z*]/;
const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z:/]/;
const KEY_START = /[a-z*]/;
const KEY_CHAR = /[a-z0-9_\-.*]/;

class Parser {
  #at = 0;
  readonly #text: string;

  constructor(text: string) {
    this.#text = text;
  }

  done(): boolean {
    return this.#at >= this.#text.length;
  }

  skipSpaces(): void {
    while (this.#text[this.#at] === ' ' || this.#text[this.#at] === '\t') this.#at++;
  }

  expect(char: string): void {
    if (this.#text[this.#at] !== char) this.#fail(`expected ${JSON.stringify(char)}`);
    this.#at++;
  }

  member(): CacheStatusEntry {
    const cache = this.#bareItem();
    if (typeof cache !== 'string') this.#fail('a cache identifier must be a token or a string');
    const params = new Map<string, CacheStatusValue>();
    while (this.#text[this.#at] === ';') {
      this.#at++;
      while (this.#text[this.#at] === ' ') this.#at++;
      const key = this.#key();
      let value: CacheStatusValue = true;
      if (this.#text[this.#at] === '=') {
        this.#at++;
        value = this.#bareItem();
      }
      params.set(key, value);
    }
    return { cache: cache as string, params };
  }

  #key(): string {
    const start = this.#at;
    if (!KEY_START.test(this.#text[this.#at] ?? '')) this.#fail('expected a parameter name');
    while (KEY_CHAR.test(this.#text[this.#at] ?? '')) this.#at++;
    return this.#text.slice(start, this.#at);
  }

  #bareItem(): CacheStatusValue {
    const char = this.#text[this.#at] ?? '';
    if (char === '"') return this.#string();
    if (char === '?') {
      const value = this.#text[this.#at + 1];
      if (value !== '0' && value !== '1') this.#fail('expected ?0 or ?1');
      this.#at += 2;
      return value === '1';
    }
    if (char === '-' || /[0-9]/.test(char)) return this.#integer();
    if (TOKEN_START.test(char)) return this.#token();
    return this.#fail('expected an item');
  }

  #string(): string {
    this.#at++;
    let value = '';
    for (;;) {
      const char = this.#text[this.#at++];
      if (char === undefined) this.#fail('unterminated string');
      if (char === '"') return value;
      if (char === '\\') {
        const escaped = this.#text[this.#at++];
        if (escaped !== '"' && escaped !== '\\') this.#fail('bad escape in a string');
        value += escaped;
      } else {
        value += char;
      }
    }
  }

  #integer(): number {
    const match = /^-?[0-9]{1,15}/.exec(this.#text.slice(this.#at));
    if (match === null) this.#fail('expected an integer');
    this.#at += match[0].length;
    if (this.#text[this.#at] === '.') this.#fail('a decimal where an integer belongs');
    return Number(match[0]);
  }

  #token(): string {
    const start = this.#at;
    this.#at++;
    while (TOKEN_CHAR.test(this.#text[this.#at] ?? '')) this.#at++;
    return this.#text.slice(start, this.#at);
  }

  #fail(message: string): never {
    throw new SyntaxError(`Cache-Status: ${message} at ${this.#at} in ${JSON.stringify(this.#text)}`);
  }
}
