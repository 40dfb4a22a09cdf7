// Rig and scenario files as a careless editor or a torn copy leaves them: cut short, bytes
// changed, fields replaced by anything. Reading one either succeeds or fails with a
// ValidationError naming the file and each bad field (or the line and column of broken JSON);
// it never throws anything else.
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/shared/format-issues';
import { RigSchema } from '../../src/shared/rig';
import { compileThresholds, ScenarioSchema } from '../../src/shared/scenario';
import { parseJsonText } from '../../src/main/lab/files/json-file';
import { fileMutation, type FileMutation } from '../fuzz/file-mutations';

const ROOT = resolve(__dirname, '../..');
const rigText = readFileSync(join(ROOT, 'resources/rigs/demo.json'), 'utf8');
const scenarioTexts = readdirSync(join(ROOT, 'resources/scenarios')).map((name) => readFileSync(join(ROOT, 'resources/scenarios', name), 'utf8'));

/** Reads `text` as the CLI does; returns 'ok', or the ValidationError. Anything else is thrown on. */
function read(text: string, kind: 'rig' | 'scenario'): 'ok' | ValidationError {
  try {
    if (kind === 'rig') parseJsonText(text, RigSchema, 'rig file fuzzed.json');
    else {
      const scenario = parseJsonText(text, ScenarioSchema, 'scenario file fuzzed.json');
      // What a run does next with the thresholds: it must not throw on anything the schema let in.
      compileThresholds(scenario.thresholds ?? {});
    }
    return 'ok';
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
}

function checkError(result: 'ok' | ValidationError, kind: string, mutation: FileMutation): void {
  if (result === 'ok') return;
  expect(result.message.startsWith(`${kind} file fuzzed.json`)).toBe(true);
  expect(result.problems.length).toBeGreaterThan(0);
  for (const problem of result.problems) {
    // Each problem names a field (a path before ':') or says where the JSON broke.
    expect(problem, `${mutation.kind}: ${problem}`).toMatch(/^(not valid JSON|[A-Za-z_$][\w$]*(\[\d+\])?(\.[\w$]+(\[\d+\])?)*:|[^:]+:)/);
  }
}

describe('rig and scenario files, fuzzed', () => {
  it('a damaged rig file is read or refused with its bad fields named, never a throw', () => {
    fc.assert(
      fc.property(fileMutation(rigText), (mutation) => {
        checkError(read(mutation.text, 'rig'), 'rig', mutation);
      }),
      { numRuns: 1_000 },
    );
  });

  it('a damaged scenario file is read or refused with its bad fields named, never a throw', () => {
    fc.assert(
      fc.property(fc.constantFrom(...scenarioTexts).chain((text) => fileMutation(text)), (mutation) => {
        checkError(read(mutation.text, 'scenario'), 'scenario', mutation);
      }),
      { numRuns: 1_000 },
    );
  });
});
