import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RigSchema } from '../../src/shared/rig';
import { TrafficSchema } from '../../src/shared/scenario';
import { float32Key } from '../../src/main/lab/engine/blackbox/osc-matcher';
import { TrafficGenerator } from '../../src/main/lab/engine/load/traffic-generator';
import { MessageValidator } from '../../src/main/lab/common/message-validator';
import { scaleToOutput } from '../../src/main/lab/common/output-scale';

const rig = RigSchema.parse(JSON.parse(readFileSync('resources/rigs/demo.json', 'utf8')));

/** How many float-variable numeric values (absolute numbers and percents) repeat an earlier one at float32 precision. */
function repeats(distinctValues: boolean): { numeric: number; repeated: number } {
  const generator = new TrafficGenerator(rig, TrafficSchema.parse({ mix: { valid: 1 }, distinctValues }), 9);
  const validator = new MessageValidator(rig);
  const seen = new Set<string>();
  let numeric = 0;
  let repeated = 0;
  for (const message of generator.take(10_000)) {
    const result = validator.validate(message.text);
    if (!result.ok) continue;
    for (const assignment of result.assignments) {
      const variable = rig.variables.find((candidate) => candidate.name === assignment.variable);
      if (!variable || variable.kind !== 'float' || assignment.spec.kind !== 'absolute' || /^(min|mid|max)$/.test(assignment.raw)) continue;
      numeric++;
      const key = `${variable.address} ${float32Key(scaleToOutput(variable, assignment.spec.value))}`;
      if (seen.has(key)) repeated++;
      seen.add(key);
    }
  }
  return { numeric, repeated };
}

describe('distinct traffic values', () => {
  it('makes every absolute number and percent of a float variable distinct at float32 precision after scaling', () => {
    const distinct = repeats(true);
    expect(distinct.numeric).toBeGreaterThan(3000);
    expect(distinct.repeated).toBe(0);
    // Without the option the same forms repeat often: the option is what makes the difference.
    expect(repeats(false).repeated).toBeGreaterThan(1000);
  });
});
