/**
 * The Prometheus text format (0.0.4) rewritten as OpenMetrics 1.0, for a
 * scraper that asks for it in its Accept header (Prometheus does by default).
 *
 * Why rewrite text instead of asking prom-client: a Registry renders
 * OpenMetrics only when its content type is set to it, and rendering then
 * renames every counter object it holds (drops `_total` from `metric.name`)
 * for good, so switching a shared registry per request would corrupt the
 * next text-format scrape. The differences are few and line-local:
 *
 * - a counter's family name has no `_total`; its samples do;
 * - HELP text escapes `"` as well as `\` and newline;
 * - `untyped` is called `unknown`;
 * - no blank lines, and the exposition ends with `# EOF`.
 */

const HELP = '# HELP ';
const TYPE = '# TYPE ';

export function toOpenMetrics(text: string): string {
  const out: string[] = [];
  // prom-client writes HELP before TYPE, and the HELP line's name depends on the type.
  let pendingHelp: { name: string; help: string } | undefined;
  let counter: { name: string; family: string } | undefined;

  const flushHelp = (family?: string) => {
    if (pendingHelp === undefined) return;
    out.push(`${HELP}${family ?? pendingHelp.name} ${pendingHelp.help.replace(/"/g, '\\"')}`);
    pendingHelp = undefined;
  };

  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith(HELP)) {
      flushHelp();
      const [name, help] = splitFirst(line.slice(HELP.length));
      pendingHelp = { name, help };
      counter = undefined;
      continue;
    }
    if (line.startsWith(TYPE)) {
      const [name, rawType] = splitFirst(line.slice(TYPE.length));
      const type = rawType === 'untyped' ? 'unknown' : rawType;
      const family = type === 'counter' ? name.replace(/_total$/, '') : name;
      counter = type === 'counter' ? { name, family } : undefined;
      flushHelp(pendingHelp?.name === name ? family : undefined);
      out.push(`${TYPE}${family} ${type}`);
      continue;
    }
    if (line.startsWith('#')) continue;
    flushHelp();
    out.push(counter === undefined ? line : counterSample(line, counter));
  }
  flushHelp();
  out.push('# EOF');
  return `${out.join('\n')}\n`;
}

/** A counter's sample named after the family gets the `_total` OpenMetrics requires. */
function counterSample(line: string, counter: { name: string; family: string }): string {
  if (counter.name !== counter.family) return line;
  const end = nameEnd(line);
  return line.slice(0, end) === counter.family ? `${counter.family}_total${line.slice(end)}` : line;
}

function nameEnd(line: string): number {
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '{' || c === ' ') return i;
  }
  return line.length;
}

function splitFirst(s: string): [string, string] {
  const i = s.indexOf(' ');
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + 1)];
}

/** Media types a scraper may list; the parameters matter only for `q`. */
const OPENMETRICS = 'application/openmetrics-text';

/**
 * Whether an Accept header prefers OpenMetrics to the text format: OpenMetrics
 * is listed with q > 0 and at least the q of `text/plain` (or of `*\/*` when
 * text/plain is not listed), as content negotiation reads it.
 */
export function prefersOpenMetrics(accept: string | undefined): boolean {
  if (accept === undefined || !accept.includes(OPENMETRICS)) return false;
  let om = 0;
  let text = -1;
  let any = 0;
  for (const range of accept.split(',')) {
    const [type = '', ...params] = range.split(';').map((p) => p.trim().toLowerCase());
    let q = 1;
    for (const p of params) if (p.startsWith('q=')) q = Number(p.slice(2)) || 0;
    if (type === OPENMETRICS) om = Math.max(om, q);
    else if (type === 'text/plain') text = Math.max(text, q);
    else if (type === '*/*' || type === 'text/*') any = Math.max(any, q);
  }
  return om > 0 && om >= (text < 0 ? any : text);
}
