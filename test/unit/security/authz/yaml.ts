/** Istio YAML for the authorization tests, built from spec snippets. */

/** Strip the common leading indentation, so YAML can sit indented in the test source. */
export function dedent(text: string): string {
  const lines = text.replace(/^\n/, '').replace(/\n\s*$/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim() !== '').map((l) => l.match(/^ */)![0].length));
  return lines.map((l) => l.slice(indent)).join('\n');
}

/**
 * An Istio AuthorizationPolicy document. `spec` is YAML for the spec's body
 * (indented however is convenient), `{}` for an empty spec.
 */
export function istio(name: string, spec: string, namespace = 'foo', apiVersion = 'security.istio.io/v1'): string {
  const body = spec.trim() === '{}' ? ' {}' : `\n${dedent(spec).replace(/^/gm, '  ')}`;
  return `apiVersion: ${apiVersion}\nkind: AuthorizationPolicy\nmetadata:\n  name: ${name}\n  namespace: ${namespace}\nspec:${body}\n`;
}

/** Several documents in one YAML stream. */
export function docs(...documents: string[]): string {
  return documents.join('---\n');
}
