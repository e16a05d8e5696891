/**
 * Import rules of DESIGN.md's layout, checked by `npm run deps:check` in CI:
 * the library never imports the command shell (src/cli.ts, src/commands/); the lower
 * layers import nothing above them (errors < log < runtime < config, hcl); no cycles.
 * Type-only imports count too: a layer that names a higher layer's types depends on it.
 * @type {import('dependency-cruiser').IConfiguration}
 */
const lower = '^src/(errors|log|runtime)\\.ts$|^src/(config|hcl)/';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles, in src/ and in the tests, benchmarks and scripts.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'library-imports-no-shell',
      severity: 'error',
      comment: 'The library never imports the command shell: src/cli.ts and src/commands/ sit on top of it.',
      from: { path: '^src/', pathNot: '^src/(cli\\.ts$|commands/)' },
      to: { path: '^src/(cli\\.ts$|commands/)' },
    },
    {
      name: 'lower-layers-import-nothing-above',
      severity: 'error',
      comment: 'errors, log, runtime, config and hcl are the bottom of the library: they import no other part of src/.',
      from: { path: lower },
      to: { path: '^src/', pathNot: lower },
    },
    {
      name: 'errors-is-the-bottom',
      severity: 'error',
      comment: 'src/errors.ts imports nothing else from src/.',
      from: { path: '^src/errors\\.ts$' },
      to: { path: '^src/', pathNot: '^src/errors\\.ts$' },
    },
    {
      name: 'log-only-above-errors',
      severity: 'error',
      comment: 'src/log.ts may import src/errors.ts only.',
      from: { path: '^src/log\\.ts$' },
      to: { path: '^src/', pathNot: '^src/(errors|log)\\.ts$' },
    },
    {
      name: 'runtime-only-above-errors-and-log',
      severity: 'error',
      comment: 'src/runtime.ts (now, sleep, logger) may import src/errors.ts and src/log.ts only.',
      from: { path: '^src/runtime\\.ts$' },
      to: { path: '^src/', pathNot: '^src/(errors|log|runtime)\\.ts$' },
    },
    {
      name: 'config-and-hcl-are-peers',
      severity: 'error',
      comment: 'src/config/ and src/hcl/ stand side by side on errors, log and runtime: neither imports the other.',
      from: { path: '^src/(config|hcl)/' },
      to: { path: '^src/(config|hcl)/', pathNot: '^src/$1/' },
    },
    {
      name: 'library-imports-no-tests',
      severity: 'error',
      comment: 'src/ never imports test/, bench/ or scripts/.',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts)/' },
    },
    {
      name: 'library-imports-no-dev-dependencies',
      severity: 'error',
      comment: 'What src/ imports must be a dependency, not a devDependency: the published package would not find it (type-only imports excepted).',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      comment: 'Every import resolves to a file or an installed package (tsc does not look at scripts/*.mjs).',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-undeclared-packages',
      severity: 'error',
      comment: 'Every imported package is declared in package.json.',
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.mjs', '.js', '.d.ts'],
    },
  },
};
