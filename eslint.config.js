// Lint: typescript-eslint's recommended rules over the server, the pages, the tests and the
// benchmarks. Unused code (variables, imports, parameters not marked with a leading _) is an error:
// dead code is deleted, not kept "just in case".
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'native/mediasoup/src/**', 'native/mediasoup/build/**', 'native/mediasoup/out/**', 'data/**', '.tap/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      'no-unused-private-class-members': 'error',
      'no-unused-labels': 'error',
      'no-unreachable': 'error',
      // Explicit `any` is allowed in tests' JSON handling; the server code avoids it by review.
      '@typescript-eslint/no-explicit-any': 'off',
      // Empty catch blocks must say why in a comment (no-empty allows a commented block).
      'no-empty': ['error', { allowEmptyCatch: false }],
    },
  },
  {
    files: ['scripts/**/*.mjs', 'native/**/*.mjs', '*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly' } },
  },
);
