// Lint config: typescript-eslint's recommended rules plus a few house rules.
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.tools/', '.run/', 'coverage/'] },
  ...tseslint.configs.recommended,
  {
    // Typed rules for the TypeScript sources and tests: a promise nobody
    // awaits or handles is a lost error (and, with the dispatcher's
    // unhandledRejection handler, a shutdown).
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }]
    }
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
      eqeqeq: ['error', 'always']
    }
  }
)
