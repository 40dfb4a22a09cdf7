import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The console's style sheet is written flat: an unclosed rule turns every rule after it into a
// nested one (CSS nesting), and they silently stop applying. Each rule must close before the next
// one opens, except inside an at-rule (@media, @page).
describe("the console's style sheet", () => {
  it('closes every rule before the next one opens', () => {
    const css = readFileSync(join(import.meta.dirname, '../../src/renderer/src/styles.css'), 'utf8').replace(/\/\*[^]*?\*\//g, '');
    const open: { atRule: boolean; line: number }[] = [];
    const nested: number[] = [];
    let line = 1;
    let selector = '';
    for (const character of css) {
      if (character === '\n') line += 1;
      if (character === '{') {
        if (open.length > 0 && !open.every((block) => block.atRule)) nested.push(line);
        open.push({ atRule: selector.trim().startsWith('@'), line });
        selector = '';
      } else if (character === '}') {
        open.pop();
        selector = '';
      } else if (character === ';') selector = '';
      else selector += character;
    }
    expect(nested, `rules opened inside another rule at lines ${nested.join(', ')}`).toEqual([]);
    expect(open).toEqual([]);
  });
});
