/**
 * What `{ ...base, ...fields }` gives: a new object with base's own properties, then fields' over them.
 *
 * On Node 20 (V8 11.3), a spread copy that gets more properties after the spread, as in
 * `{ ...sample, retries }`, leaves V8's fast path: each added property builds a hidden class of its own
 * for that one object. bench/object-spread.ts measured 1.2–3 µs for one added property and 30–45 µs for
 * thirteen, 20–600× a literal; extend took 0.2–0.3 µs and 1.4 µs. Use it where an object is built once per
 * case or per request, and a literal where that is as clear.
 */
export function extend<Base extends object, Fields extends object>(base: Base, fields: Fields): Omit<Base, keyof Fields> & Fields {
  // Object.assign would take an own "__proto__" key (JSON.parse makes one) as the prototype; a spread copies it.
  if (Object.hasOwn(base, '__proto__') || Object.hasOwn(fields, '__proto__')) return { ...base, ...fields };
  return Object.assign({}, base, fields);
}
