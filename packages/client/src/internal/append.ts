/** Appends to a map of lists in place (a spread copy per element is quadratic in the batch size). */
export function append<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
