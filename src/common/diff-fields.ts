/** The fields whose value a patch would change, as `{field: {from, to}}`, for the audit record. */
export function diffFields<T extends object>(
  current: T,
  patch: Partial<T>,
  fields: readonly (keyof T & string)[],
): Record<string, { from: unknown; to: unknown }> {
  const out: Record<string, { from: unknown; to: unknown }> = {};
  for (const f of fields) {
    const to = patch[f];
    if (to === undefined) continue;
    const from = current[f];
    if (JSON.stringify(from) !== JSON.stringify(to)) out[f] = { from, to };
  }
  return out;
}
