import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import { layersRule } from './eslint-rules/layering-rule.js';

// Which folder imports which folder is one table (eslint-rules/layers.js, shown in
// docs/architecture.md) held by the `cvlab/layers` rule on resolved paths. The rules below add
// what a folder table cannot say: packages and built-ins a runtime must not load.
const nodeBuiltins = ['node:*', 'fs', 'path', 'os', 'child_process', 'net', 'dgram', 'http', 'crypto', 'worker_threads'];
const noElectron = { group: ['electron', 'electron/*'], message: 'Only the Electron shell (src/main/index.ts, ipc.ts, src/preload) loads electron: the engine runs without it (cvlab run/serve).' };
const terminalColours = [
  { selector: 'Literal[value=/\\u001b\\[/]', message: 'Terminal colours belong to the cli host (src/main/cli), not the engine.' },
  { selector: 'TemplateElement[value.cooked=/\\u001b\\[/]', message: 'Terminal colours belong to the cli host (src/main/cli), not the engine.' },
];

export default tseslint.config(
  { ignores: ['out/**', 'node_modules/**', 'artifacts/**', 'resources/firmware/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['bin/**/*.js', 'scripts/**/*.mjs', 'examples/**/*.js', 'eslint-rules/**/*.js', '*.config.{js,ts}'],
    languageOptions: { globals: globals.node },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.{ts,tsx}'],
    plugins: { cvlab: { rules: { layers: layersRule } } },
    rules: { 'cvlab/layers': 'error' },
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
          ],
        },
      ],
    },
  },
  {
    files: ['src/main/lab/**/*.ts', 'src/main/cli.ts', 'src/main/cli/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noElectron] }] },
  },
  {
    files: ['src/main/lab/**/*.ts'],
    rules: { 'no-restricted-syntax': ['error', ...terminalColours] },
  },
  {
    // The engine thread never opens a database, a console or a browser: saving and showing are the host's.
    files: ['src/main/lab/engine/**/*.ts', 'src/main/lab/common/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            noElectron,
            { group: ['pg', 'pg-copy-streams', '@electric-sql/*', 'prom-client', 'cli-progress', 'react', 'react-dom'], message: 'The engine thread measures: saving, Prometheus and display live on the host.' },
          ],
        },
      ],
    },
  },
  {
    // The sandboxed preload may load electron's contextBridge and the contract, nothing of Node.
    files: ['src/preload/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: nodeBuiltins, message: 'The preload is sandboxed: no Node built-ins.' }] }],
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
          ],
        },
      ],
    },
  },
);
