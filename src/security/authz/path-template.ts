/**
 * Istio's path templates: `{*}` stands for one path segment, `{**}` for the
 * rest of the path (any number of segments, possibly none) and may only be
 * the last operator. Each operator is a whole segment (`/a/{*}/b`, never
 * `/a/{*}.txt`). These are Envoy's URI templates, whose globs match the RFC
 * 3986 `pchar` characters only; the same table is used here.
 *
 * Compiled into literal pieces between operators and matched by scanning, so
 * there is no regex and no allocation per request.
 */

const ONE = 0;
const REST = 1;

/** RFC 3986 pchar minus percent-decoding: unreserved, sub-delims, ":", "@", and "%". */
const PCHAR = new Uint8Array(128);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~%!$&'()+,;:@=") {
  PCHAR[c.charCodeAt(0)] = 1;
}

function isPchar(c: number): boolean {
  return c < 128 && PCHAR[c] === 1;
}

/** True when `path` uses `{*}` or `{**}`; such paths are templates, not wildcards. */
export function isPathTemplate(path: string): boolean {
  return path.includes('{*}') || path.includes('{**}');
}

/** Why `path` is not a valid template or wildcard path, or undefined when it is. */
export function pathTemplateProblem(path: string): string | undefined {
  const template = isPathTemplate(path);
  let sawRest = false;
  for (const segment of path.replace(/^\/+|\/+$/g, '').split('/')) {
    if (segment === '{*}' || segment === '{**}') {
      if (sawRest) return '{**} must be the last operator in a path template';
      sawRest = segment === '{**}';
      continue;
    }
    if (segment.includes('{') || segment.includes('}')) {
      return template
        ? `segment ${JSON.stringify(segment)} mixes text with a template operator; {*} and {**} must each be a whole segment`
        : '"{" and "}" only appear in the path templates {*} (one segment) and {**} (the rest of the path)';
    }
    if (template) {
      if (segment.includes('*')) return 'a path template cannot also use "*" wildcards; use {*} or {**}';
      for (let i = 0; i < segment.length; i++) {
        if (!isPchar(segment.charCodeAt(i))) {
          return `segment ${JSON.stringify(segment)} has ${JSON.stringify(segment[i])}, which a path template cannot match (RFC 3986 pchar only)`;
        }
      }
      if (segment === '') return 'a path template cannot have an empty segment ("//")';
    }
  }
  return undefined;
}

export class PathTemplate {
  /** Literal text before each operator, then the text after the last one. */
  readonly #literals: readonly string[];
  readonly #ops: readonly number[];

  /** `template` must have passed pathTemplateProblem. */
  constructor(template: string) {
    const literals: string[] = [];
    const ops: number[] = [];
    let rest = template;
    for (;;) {
      const one = rest.indexOf('{*}');
      const any = rest.indexOf('{**}');
      if (one < 0 && any < 0) break;
      const isRest = any >= 0 && (one < 0 || any < one);
      const at = isRest ? any : one;
      literals.push(rest.slice(0, at));
      ops.push(isRest ? REST : ONE);
      rest = rest.slice(at + (isRest ? 4 : 3));
    }
    literals.push(rest);
    this.#literals = literals;
    this.#ops = ops;
  }

  /** The text before the first operator: every match starts with it. */
  get literalPrefix(): string {
    return this.#literals[0]!;
  }

  /** Whether text[start, end) matches the whole template. */
  test(text: string, start: number, end: number): boolean {
    const literals = this.#literals;
    const ops = this.#ops;
    let pos = start;
    for (let k = 0; k < ops.length; k++) {
      const lit = literals[k]!;
      if (pos + lit.length > end || !text.startsWith(lit, pos)) return false;
      pos += lit.length;
      if (ops[k] === REST) {
        // The last operator: whatever precedes the final literal.
        const tail = literals[k + 1]!;
        const stop = end - tail.length;
        if (stop < pos || !text.endsWith(tail, end)) return false;
        for (let i = pos; i < stop; i++) {
          const c = text.charCodeAt(i);
          if (c !== 47 /* / */ && !isPchar(c)) return false;
        }
        return true;
      }
      const from = pos;
      while (pos < end && isPchar(text.charCodeAt(pos))) pos++;
      if (pos === from) return false;
    }
    const last = literals[ops.length]!;
    return end - pos === last.length && text.startsWith(last, pos);
  }
}
