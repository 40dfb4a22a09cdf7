#!/usr/bin/env node
// Runs Electronegativity over the built app (out/) and fails on any finding. Its CLI exits 0
// whatever it finds (and breaks with the project's commander), so this drives its runner,
// writes SARIF to artifacts/, reads that file back and decides from it.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);
const input = join(root, 'out');
const output = join(root, 'artifacts', 'electronegativity.sarif');

// Reviewed by hand, not findings: every app with a preload gets this reminder. Ours is bundled,
// sandboxed and exposes named LabApi functions only (src/preload/index.ts).
const REVIEWED = ['PreloadJSCheck']; // PRELOAD_JS_CHECK

// Google's CSP evaluator marks `script-src 'self'` as "maybe" weak because a site that also hosts
// JSONP, Angular or user uploads could be abused; the console's origin serves only its own bundle.
// A CSP finding passes only when this is ALL the evaluator has to say about that policy.
const REVIEWED_CSP = [{ directive: 'script-src', value: "'self'" }];

if (!existsSync(join(input, 'main', 'index.js'))) {
  console.error(`No built app in ${input}: run \`npx electron-vite build\` first.`);
  process.exit(1);
}
mkdirSync(join(root, 'artifacts'), { recursive: true });
rmSync(output, { force: true });

const electronVersion = JSON.parse(
  readFileSync(join(root, 'node_modules', 'electron', 'package.json'), 'utf8'),
).version;
const runner = require('@doyensec/electronegativity');
const run = runner.default ?? runner;
const result = await run(
  {
    input,
    output,
    isSarif: true,
    isRelative: true,
    electronVersionOverride: electronVersion,
    excludeFromScan: REVIEWED,
  },
  false,
);

/** Its runner writes the file with an unawaited fs.writeFile: wait for a complete document. */
async function readSarif() {
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      return JSON.parse(readFileSync(output, 'utf8'));
    } catch {
      await sleep(100);
    }
  }
  console.error(`Electronegativity wrote no readable result to ${output}.`);
  process.exit(1);
}

const sarif = await readSarif();
const reported = sarif.runs.flatMap((entry) => entry.results ?? []);
const parseErrors = result?.errors ?? [];

/** True when the policy behind a CSP finding has only the reviewed weaknesses. */
function onlyReviewedCsp(finding) {
  if (finding.ruleId !== 'CSP_GLOBAL_CHECK') return false;
  const location = finding.locations?.[0]?.physicalLocation;
  const issue = (result?.issues ?? []).find(
    (candidate) =>
      candidate.id === 'CSP_GLOBAL_CHECK' &&
      candidate.file === location?.artifactLocation?.uri &&
      Math.max(1, candidate.location?.line ?? 1) === location?.region?.startLine,
  );
  if (!issue?.sample) return false;
  const csp = require('@doyensec/csp-evaluator');
  const weaknesses = new csp.CspEvaluator(new csp.CspParser(issue.sample).csp, csp.Version.CSP3)
    .evaluate()
    .filter((weakness) => weakness.severity <= csp.severities.MEDIUM_MAYBE);
  return (
    weaknesses.length > 0 &&
    weaknesses.every((weakness) =>
      REVIEWED_CSP.some((known) => known.directive === weakness.directive && known.value === weakness.value),
    )
  );
}

const findings = reported.filter((finding) => {
  if (!onlyReviewedCsp(finding)) return true;
  console.log(
    `reviewed ${finding.ruleId} at ${finding.locations?.[0]?.physicalLocation?.artifactLocation?.uri}: only script-src 'self' (the console's own bundle)`,
  );
  return false;
});
for (const finding of findings) {
  const location = finding.locations?.[0]?.physicalLocation;
  const where = location ? `${location.artifactLocation?.uri ?? '?'}:${location.region?.startLine ?? '?'}` : 'out/';
  console.log(`${finding.level ?? 'finding'} ${finding.ruleId} at ${where}: ${finding.message?.text ?? ''}`);
}
for (const error of parseErrors) console.log(`could not parse ${error.file ?? '?'}: ${error.message ?? error}`);
console.log(
  `electronegativity ${electronVersion ? `(Electron ${electronVersion}) ` : ''}over out/: ${findings.length} finding(s), ${parseErrors.length} unparsed file(s); SARIF in ${output}`,
);
process.exit(findings.length > 0 ? 1 : 0);
