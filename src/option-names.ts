/**
 * The message for an option name nobody knows: the closest known name when one is close enough (the
 * same name in another case, a prefix, or one or two letters off), else the list of known names.
 */
export function unknownOptionMessage(name: string, known: readonly string[]): string {
  const suggestion = closestName(name, known);
  return suggestion === undefined
    ? `unknown option \`${name}\` (known: ${known.join(', ')})`
    : `unknown option \`${name}\`: did you mean \`${suggestion}\`?`;
}

function closestName(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  const sameLetters = known.find((candidate) => candidate.toLowerCase() === lower);
  if (sameLetters !== undefined) return sameLetters;
  const extended = known.find((candidate) => candidate.toLowerCase().startsWith(lower) && lower.length >= 3);
  if (extended !== undefined) return extended;
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance <= 2 && (best === undefined || distance < best.distance))
      best = { name: candidate, distance };
  }
  return best?.name;
}

/** Levenshtein distance, for names of a few dozen characters. */
function editDistance(left: string, right: string): number {
  let previous = Array.from({ length: right.length + 1 }, (_, index) => index);
  for (let row = 1; row <= left.length; row++) {
    const current = [row];
    for (let column = 1; column <= right.length; column++) {
      const substitution = (previous[column - 1] as number) + (left[row - 1] === right[column - 1] ? 0 : 1);
      current.push(
        Math.min((previous[column] as number) + 1, (current[column - 1] as number) + 1, substitution),
      );
    }
    previous = current;
  }
  return previous[right.length] as number;
}

/** A value as an error message names it: `the string "60"`, `null`, `an object`, `42`. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'function' ? 'a function' : 'an object';
}
