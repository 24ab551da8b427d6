// Module resolution hook: resolve packages with the `development` export condition, which points
// workspace packages at their TypeScript sources (what `node --conditions=development` does).
export async function resolve(specifier, context, nextResolve) {
  const conditions = context.conditions.includes("development")
    ? context.conditions
    : [...context.conditions, "development"];
  return nextResolve(specifier, { ...context, conditions });
}
