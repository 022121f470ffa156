import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', '.bench-dist/', 'runs/', 'node_modules/', 'native/build/', 'docs/api/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // Prettier owns the layout; these rules would fight it
  prettier,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // what Prettier cannot break (long strings) and functions that do too much: warnings to act on
    files: ['src/**/*.ts', 'bench/**/*.ts'],
    rules: {
      'max-len': ['warn', { code: 140, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreUrls: true }],
      'max-lines-per-function': ['warn', { max: 80, skipBlankLines: true, skipComments: true }],
    },
  },
  { files: ['scripts/*.mjs'], languageOptions: { globals: { process: 'readonly', console: 'readonly' } } },
);
