// ESLint for the TypeScript: the recommended rules of ESLint and typescript-eslint.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'dist-dev/', 'build/', '**/build/', 'node_modules/', 'reference/target/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // The CLI and the lessons load modules on demand (start-up time is measured).
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // strace-style quoting and ANSI colours match control characters on purpose.
      'no-control-regex': 'off',
    },
  },
  {
    // The benchmark parses the JSON that its baseline programs print.
    files: ['bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The web view's page script runs in the browser.
    files: ['src/view/assets/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: Object.fromEntries(
        [
          'document',
          'window',
          'getComputedStyle',
          'setTimeout',
          'clearTimeout',
          'requestAnimationFrame',
          'matchMedia',
          'performance',
          'console',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
  {
    files: ['test/fixtures/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    files: ['scripts/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', process: 'readonly' } },
  },
);
