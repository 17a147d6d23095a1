/**
 * Finding one query parameter in a raw request path without parsing the
 * whole query string or allocating: route matching and request hashing both
 * run per request and read a single named parameter.
 */

/**
 * Where the first `name` parameter's value starts in `path` (just after the
 * `=`, or at the separator for a bare `?name`), or -1 when absent. The
 * value ends at `queryValueEnd(path, start)`.
 */
export function findQueryValue(path: string, name: string): number {
  let end = path.indexOf('#');
  if (end < 0) end = path.length;
  // A '?' inside the fragment starts no query.
  const q = path.indexOf('?');
  if (q < 0 || q > end) return -1;
  let i = q + 1;
  while (i < end) {
    let stop = path.indexOf('&', i);
    if (stop < 0 || stop > end) stop = end;
    if (path.startsWith(name, i)) {
      const after = i + name.length;
      if (after === stop) return stop;
      if (path.charCodeAt(after) === 61 /* = */) return after + 1;
    }
    i = stop + 1;
  }
  return -1;
}

/** The end of the value that starts at `start`: the next `&`, `#` or the end of the path. */
export function queryValueEnd(path: string, start: number): number {
  for (let i = start; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 38 /* & */ || c === 35 /* # */) return i;
  }
  return path.length;
}
