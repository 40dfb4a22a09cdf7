import { describe, expect, it } from 'vitest';
import { TERM_GLOSSARY } from '../../src/shared/glossary';
import { scenarioFacts } from '../../src/shared/scenario-facts';
import { renderReportHtml } from '../../src/main/lab/report/render-html';
import { assembleReport } from '../../src/main/lab/report/report-builder';

describe('the executor and the abort grace, explained where a run is shown', () => {
  it('reads them from a scenario as saved or drafted', () => {
    expect(scenarioFacts({ executor: { type: 'burst' }, abortOnFail: true, abortGrace: '2s' })).toEqual({ executor: 'burst', abortGrace: '2 s' });
    expect(scenarioFacts({ executor: { type: 'replay' }, abortOnFail: true })).toEqual({ executor: 'replay', abortGrace: '1 s' });
    expect(scenarioFacts({ executor: { type: 'replay' }, abortOnFail: true, abortGrace: 250 })).toEqual({ executor: 'replay', abortGrace: '250 ms' });
    expect(scenarioFacts({ executor: { type: 'burst' }, abortGrace: '2s' })).toEqual({ executor: 'burst', abortGrace: null });
    expect(scenarioFacts(null)).toEqual({ executor: null, abortGrace: null });
  });

  it('explains both in the HTML report beside the scenario', () => {
    const report = assembleReport({
      run: {
        id: 'facts', rig: 'demo', scenario: 'sustained', status: 'failed', startedAtMs: 0, endedAtMs: 1000, intervalCount: 0, baseline: false, e2eP99Ms: null, heartbeatAtMs: 0,
        info: { rigConfig: { name: 'demo' }, scenarioConfig: { name: 'sustained', executor: { type: 'constant-arrival-rate', rate: 500, duration: '20s' }, abortOnFail: true, abortGrace: '2s' } },
        environment: null, summary: null,
      },
      intervals: [], histograms: [], alerts: [], loopback: [],
    });
    const html = renderReportHtml(report);
    expect(html).toContain(`<abbr title="${TERM_GLOSSARY.executor}">executor</abbr> <code>constant-arrival-rate</code>`);
    expect(html).toContain('after an <abbr title="How long a breaking threshold is tolerated before an abort-on-fail run stops.">abort grace</abbr> of 2 s');
  });
});
