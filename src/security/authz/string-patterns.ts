/**
 * Istio's string matching for one list of values, compiled: `abc` exact,
 * `abc*` prefix, `*abc` suffix, `*` any non-empty value (presence for
 * headers), plus path templates for `paths`.
 *
 * Values are split once into an exact set, prefix and suffix lists. A test
 * takes bounds into the request string (`start`, `end`), so the namespace
 * inside a principal, a path before its `?query` or a host before its
 * `:port` are matched in place, without slicing a new string per request.
 */
import { PathTemplate } from './path-template.js';

export interface PatternOptions {
  /** ASCII-lowercase the values (hosts); the caller lowercases the request side. */
  readonly fold?: boolean;
  /** `*` also matches an empty value: header presence, as Envoy's present_match. */
  readonly emptyIsPresent?: boolean;
  /** Read `{*}`/`{**}` values as path templates. */
  readonly templates?: boolean;
}

export class StringPatterns {
  readonly #exact: ReadonlySet<string>;
  readonly #exactList: readonly string[];
  readonly #prefixes: readonly string[];
  readonly #suffixes: readonly string[];
  readonly #templates: readonly PathTemplate[];
  /** The shortest value `*` matches: 1, or 0 for header presence; -1 without `*`. */
  readonly #anyMin: number;

  constructor(values: readonly string[], options: PatternOptions = {}) {
    const exact: string[] = [];
    const prefixes: string[] = [];
    const suffixes: string[] = [];
    const templates: PathTemplate[] = [];
    let anyMin = -1;
    for (const raw of values) {
      const v = options.fold ? raw.toLowerCase() : raw;
      if (v === '*') anyMin = options.emptyIsPresent ? 0 : 1;
      else if (options.templates && (v.includes('{*}') || v.includes('{**}'))) templates.push(new PathTemplate(v));
      else if (v.startsWith('*')) suffixes.push(v.slice(1));
      else if (v.endsWith('*')) prefixes.push(v.slice(0, -1));
      else exact.push(v);
    }
    this.#exact = new Set(exact);
    this.#exactList = [...this.#exact];
    this.#prefixes = prefixes;
    this.#suffixes = suffixes;
    this.#templates = templates;
    this.#anyMin = anyMin;
  }

  /**
   * The exact values and literal prefixes one of which any match must have,
   * for the policy index; undefined when a `*` or suffix value makes that
   * impossible. A template contributes the text before its first operator.
   */
  gateKeys(): { readonly exact: readonly string[]; readonly prefixes: readonly string[] } | undefined {
    if (this.#anyMin >= 0 || this.#suffixes.length > 0) return undefined;
    return { exact: this.#exactList, prefixes: [...this.#prefixes, ...this.#templates.map((t) => t.literalPrefix)] };
  }

  /**
   * The one value, when the list is a single exact value or a single prefix
   * (`GET`, `/users/*`), the commonest shape by far; undefined otherwise.
   * Clause matches it inline instead of calling test().
   */
  single(): { readonly value: string; readonly prefix: boolean } | undefined {
    if (this.#anyMin >= 0 || this.#suffixes.length > 0 || this.#templates.length > 0) return undefined;
    if (this.#exactList.length === 1 && this.#prefixes.length === 0) return { value: this.#exactList[0]!, prefix: false };
    if (this.#exactList.length === 0 && this.#prefixes.length === 1) return { value: this.#prefixes[0]!, prefix: true };
    return undefined;
  }

  /** Whether text[start, end) matches any of the values. */
  test(text: string, start: number, end: number): boolean {
    const len = end - start;
    if (this.#anyMin >= 0 && len >= this.#anyMin) return true;
    const exact = this.#exactList;
    if (exact.length > 0) {
      const whole = start === 0 && end === text.length;
      if (whole && exact.length > EXACT_SCAN_MAX) {
        if (this.#exact.has(text)) return true;
      } else {
        // A few values: comparing beats hashing the request's string (a
        // fresh one per request, so its hash is never cached) for Set.has.
        for (let i = 0; i < exact.length; i++) {
          const v = exact[i]!;
          if (v.length === len && (whole ? text === v : text.charCodeAt(end - 1) === v.charCodeAt(len - 1) && text.startsWith(v, start))) {
            return true;
          }
        }
      }
    }
    // Prefixes in one policy set tend to share their start (`/api/v1/…`) and
    // differ at the end, so comparing the last character first rejects most
    // misses without a full startsWith; suffixes likewise by their first.
    const prefixes = this.#prefixes;
    for (let i = 0; i < prefixes.length; i++) {
      const p = prefixes[i]!;
      const n = p.length;
      if (n <= len && (n === 0 || text.charCodeAt(start + n - 1) === p.charCodeAt(n - 1)) && text.startsWith(p, start)) {
        return true;
      }
    }
    const suffixes = this.#suffixes;
    for (let i = 0; i < suffixes.length; i++) {
      const s = suffixes[i]!;
      const n = s.length;
      if (n <= len && text.charCodeAt(end - n) === s.charCodeAt(0) && text.endsWith(s, end)) return true;
    }
    const templates = this.#templates;
    for (let i = 0; i < templates.length; i++) if (templates[i]!.test(text, start, end)) return true;
    return false;
  }
}

/**
 * Above this many exact values one Set lookup beats comparing each (string
 * equality is a length check and, for equal lengths, a builtin compare).
 */
const EXACT_SCAN_MAX = 4;
