// ESLint (flat config): ESLint's and typescript-eslint's recommended rules, `npm run lint`.
// Not type-aware on purpose: the type-aware presets cost about three times the CPU of
// this set (a second full TypeScript program beside `npm run typecheck`) on CI's 2 cores.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'coverage/', 'bench/out/', '.scratch/', '.doc-test-tmp/', 'terraform/', 'jobs/', 'examples/', 'docs/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // `const { token: _t, ...rest } = x` is how the code base drops a field from a copy;
      // a leading underscore marks a parameter or binding as deliberately unused.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // Prettier owns line breaks and always writes semicolons, so the ASI trap this rule
      // looks for cannot happen; and Prettier itself breaks `f(x)['key']!.a().b()` chains
      // before the `[`, which the rule would then report.
      'no-unexpected-multiline': 'off',
    },
  },
  {
    files: ['src/errors.ts'],
    rules: {
      // Its pattern of characters to escape before printing untrusted text lists control
      // characters, combining marks and variation selectors one by one, on purpose.
      'no-control-regex': 'off',
      'no-misleading-character-class': 'off',
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // chai's property assertions (`expect(x).to.be.empty`, `.that.is.not.empty`) are expressions by design.
      '@typescript-eslint/no-unused-expressions': 'off',
    },
  },
  {
    files: ['src/config/index.ts'],
    rules: { 'no-useless-escape': 'off' },
  },
);
