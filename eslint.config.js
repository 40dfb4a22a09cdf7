import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

// Layer rules (VS Code's common/node/browser split): each runtime imports only what it may.
const nodeBuiltins = ['node:*', 'fs', 'path', 'os', 'child_process', 'net', 'dgram', 'http', 'crypto', 'worker_threads'];

export default tseslint.config(
  { ignores: ['out/**', 'node_modules/**', 'artifacts/**', 'resources/firmware/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['bin/**/*.js', 'scripts/**/*.mjs', 'examples/**/*.js', '*.config.{js,ts}'],
    languageOptions: { globals: globals.node },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: nodeBuiltins, message: 'src/shared is runtime-agnostic: no Node built-ins.' },
            { group: ['electron', 'react', 'react-dom'], message: 'src/shared is runtime-agnostic.' },
            { group: ['**/main/**', '**/renderer/**', '**/preload/**'], message: 'src/shared imports nothing above it.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/main/lab/**/*.ts', 'src/main/cli.ts', 'src/main/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['electron', 'electron/*'], message: 'The engine runs without Electron (cvlab run/serve): never import electron here.' },
            { group: ['**/renderer/**', '**/preload/**'], message: 'The engine does not import UI code.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/renderer/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: nodeBuiltins, message: 'The renderer runs in a sandboxed browser: no Node built-ins.' },
            { group: ['electron', 'electron/*'], message: 'The renderer talks to the engine only through LabApi (window.lab).' },
            { group: ['**/main/**', '**/preload/**'], message: 'The renderer imports only src/shared and its own code.' },
          ],
        },
      ],
    },
  },
);
