/**
 * Modules loaded when they are first needed, so that a command loads only what
 * it uses: `render` never loads the clients of the servers it does not contact.
 */

/**
 * Load a module by a specifier relative to this folder (src/commands). Under a
 * CommonJS loader (the tests run the sources through tsx's require hook),
 * `import()` would create a second copy of every module the caller shares with
 * the rest of the program — its errors would then fail `instanceof` checks — so
 * `require` is used there; the built program is ESM and imports.
 */
export function load<M>(specifier: string): Promise<M> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- see above: one module instance under CommonJS
  return typeof require === 'function' ? Promise.resolve(require(specifier) as M) : (import(specifier) as Promise<M>);
}
