/**
 * JSON with object keys sorted at every level, so equal values always serialise (and hash)
 * equally. Written directly rather than by sorting a copy: it runs for every stage key.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + (value[i] === undefined ? 'null' : canonicalJson(value[i]));
    return out + ']';
  }
  const record = value as Record<string, unknown>;
  let out = '{';
  let first = true;
  for (const key of Object.keys(record).sort()) {
    const child = record[key];
    if (child === undefined || typeof child === 'function') continue;
    out += (first ? '' : ',') + JSON.stringify(key) + ':' + canonicalJson(child);
    first = false;
  }
  return out + '}';
}
