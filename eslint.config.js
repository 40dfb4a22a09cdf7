import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

// Layer rules (VS Code's common/node/browser split): each runtime imports only what it may.
// What the engine (src/main/lab) and the command line never import.
const enginePatterns = [
  { group: ['electron', 'electron/*'], message: 'The engine runs without Electron (cvlab run/serve): never import electron here.' },
  { group: ['**/renderer/**', '**/preload/**'], message: 'The engine does not import UI code.' },
];
// The engine serves its hosts; it never imports one of them.
const hostPatterns = { group: ['**/cli/**', '**/main/cli', '**/main/index', '**/main/ipc'], message: 'The engine does not import its hosts (cli, Electron shell).' };
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
      'no-restricted-imports': ['error', { patterns: enginePatterns }],
    },
  },
  // Layers inside the engine. Each block repeats the engine's own patterns: a later block replaces the rule.
  {
    files: ['src/main/lab/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [...enginePatterns, hostPatterns] }],
      // Display formatting (terminal colours) lives with its host, the command line.
      'no-restricted-syntax': [
        'error',
        { selector: 'Literal[value=/\\u001b\\[/]', message: 'Terminal colours belong to the cli host (src/main/cli), not the engine.' },
        { selector: 'TemplateElement[value.cooked=/\\u001b\\[/]', message: 'Terminal colours belong to the cli host (src/main/cli), not the engine.' },
      ],
    },
  },
  {
    files: ['src/main/lab/pipeline/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...enginePatterns,
            hostPatterns,
            { group: ['**/load/**', '**/metrics/**', '**/store/**', '**/report/**', '../load/*', '../metrics/*', '../store/*', '../report/*'], message: 'The pipeline is the system under test: it imports nothing of the load generator, metrics, store or reports.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/main/lab/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...enginePatterns,
            hostPatterns,
            { group: ['**/store/**', '**/report/**', '../store/*', '../report/*'], message: 'The engine thread measures; saving and reports happen on the host side.' },
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
