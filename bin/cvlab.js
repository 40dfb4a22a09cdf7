#!/usr/bin/env node
// Runs the built command line (npm install builds it through the prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = fileURLToPath(new URL('../out/main/cli.js', import.meta.url));
if (!existsSync(built)) {
  console.error('cvlab is not built yet: run `npm run build` in the cvlab folder (npm install does it for you).');
  process.exit(1);
}
await import(built);
