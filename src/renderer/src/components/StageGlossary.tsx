import { STAGE_GLOSSARY } from '../glossary';

const ORDER = ['validate', 'limit', 'store', 'encode', 'send', 'e2e', 'tap', 'slip', 'propagation', 'fanout'];

/** The help section: what every timed stage covers, and why tap can read above e2e. */
export function StageGlossary(): React.JSX.Element {
  return (
    <details className="glossary" aria-label="what the stages measure">
      <summary>What the stages measure</summary>
      <dl>
        {ORDER.map((stage) => (
          <div key={stage}>
            <dt>
              <code>{stage === 'fanout' ? 'fan-out' : stage}</code>
            </dt>
            <dd>{STAGE_GLOSSARY[stage]}</dd>
          </div>
        ))}
      </dl>
      <p className="dim">
        Every figure is a percentile of an HDR histogram (p50, p95, p99, p99.9, max) in milliseconds, with the number of
        samples it rests on. Each stage is timed on its own, so the stages do not add up to e2e exactly.
      </p>
    </details>
  );
}
