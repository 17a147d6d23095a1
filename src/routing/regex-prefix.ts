/**
 * The literal text every full match of a regex must start with, so a regex
 * route such as `/users/[0-9]+` can sit in the prefix index under "/users/"
 * instead of being tested against every request. Conservative by design:
 * whenever the pattern is hard to read (escapes like \d, groups, classes,
 * quantifiers, top-level alternation) the prefix stops there, and a shorter
 * prefix only costs speed, never correctness.
 *
 * Only ASCII is taken, because the case-insensitive index folds ASCII
 * letters only, and a JavaScript regex without the `u` flag never folds a
 * non-ASCII character onto an ASCII one either.
 */

const META = new Set('\\^$.|?*+()[]{}');
/** Escapes that stand for the character itself. */
const LITERAL_ESCAPES = new Set('/.-\\?*+()[]{}|^$');
/** Tokens after which the previous character may repeat zero times. */
const OPTIONAL_AFTER = new Set('?*{');

export function literalPrefix(pattern: string): string {
  if (hasTopLevelAlternation(pattern)) return '';
  let i = pattern.startsWith('^') ? 1 : 0;
  let out = '';
  while (i < pattern.length) {
    const c = pattern[i]!;
    let literal: string;
    let width: number;
    if (c === '\\') {
      const next = pattern[i + 1];
      if (next === undefined || !LITERAL_ESCAPES.has(next)) break;
      literal = next;
      width = 2;
    } else {
      if (META.has(c) || c.charCodeAt(0) > 127) break;
      literal = c;
      width = 1;
    }
    const after = pattern[i + width];
    if (after !== undefined && OPTIONAL_AFTER.has(after)) break;
    out += literal;
    // `a+` needs at least one `a`, and nothing certain after it.
    if (after === '+') break;
    i += width;
  }
  return out;
}

/** `a|b` at depth 0 means the pattern has no single start. */
function hasTopLevelAlternation(pattern: string): boolean {
  let depth = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') i++;
    else if (c === '[') {
      // Skip the class; in JavaScript it ends at the first unescaped "]".
      for (i++; i < pattern.length && pattern[i] !== ']'; i++) if (pattern[i] === '\\') i++;
    } else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) return true;
  }
  return false;
}
