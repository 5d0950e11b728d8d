/**
 * `instanceof` for a class whose instances cross from one of relay-dap's bundles to another.
 * main.cjs, adapter.cjs and job.cjs each carry their own copy of the small modules they share
 * (esbuild links each bundle alone, scripts/bundle.mjs), so an error made by job.cjs's copy of
 * a class is not an instance of adapter.cjs's copy. Each copy marks its instances with the same
 * registered symbol, and `instanceof` looks for the mark. It lives in this lowest layer because
 * the relay layer, the job layer and the command line each have such a class.
 */
export function recognisedAcrossBundles(cls: abstract new (...args: never[]) => object, name: string): void {
  const mark = Symbol.for(`relay-dap.${name}`);
  Object.defineProperty(cls.prototype, mark, { value: true });
  Object.defineProperty(cls, Symbol.hasInstance, {
    value: (value: unknown): boolean => typeof value === 'object' && value !== null && mark in value,
  });
}
