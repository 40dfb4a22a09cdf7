import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedRoot: string | undefined;

/**
 * The project folder (where package.json names "cvlab"), found by walking up from this file, so
 * the same code finds resources/ whether it runs from src/ (tsx, tests) or out/ (built).
 */
export function projectRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'cvlab') return (cachedRoot = dir);
      } catch {
        // not ours; keep walking
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the cvlab folder (package.json) above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** A path inside resources/ (rigs, scenarios, firmware). */
export function resourcePath(...parts: string[]): string {
  return join(projectRoot(), 'resources', ...parts);
}

/** The built-in demo rig. */
export const demoRigPath = (): string => resourcePath('rigs', 'demo.json');
