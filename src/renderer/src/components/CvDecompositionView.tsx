import { layoutCvDecomposition, type CvDecompositionLayout } from '../../../shared/cv-decomposition';
import type { ChatToCvProgress, ChatToCvSummary, StageStatistics } from '../../../shared/run';
import { formatNsAsMs as ms } from '../format/format';
import { TERM_GLOSSARY } from '../glossary';

/** A saved summary's chat → CV part, as stored (a run without a probe has none). */
export function isChatToCv(value: unknown): value is ChatToCvSummary {
  const candidate = value as Partial<ChatToCvSummary> | null | undefined;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.matched === 'number' &&
    typeof candidate.decomposition === 'object'
  );
}

/**
 * Chat → OSC → CV as a picture: each leg of the probe messages' path on one time axis (solid to
 * p50, lighter on to p99), the clock fit's bound beside the legs timed on the probe, and the edges
 * matched, missed and unexplained. The same picture live (progress) and after the run.
 */
export function CvDecompositionView({
  layout,
  title,
  detail,
}: {
  layout: CvDecompositionLayout;
  title: string;
  detail?: React.ReactNode;
}): React.JSX.Element {
  return (
    <section className="cv-decomposition" aria-label="chat to CV decomposition" data-testid="cv-decomposition">
      <h3>
        {title}{' '}
        <span className="dim">
          · clock fit{' '}
          <span className="term" title={TERM_GLOSSARY['fit residual']}>
            {layout.bound}
          </span>
        </span>
      </h3>
      {detail && <div className="dim cv-detail">{detail}</div>}
      {layout.rows.length === 0 ? (
        <p className="dim">No CV edge matched yet.</p>
      ) : (
        <div className="cv-legs" role="table" aria-label="chat to CV legs">
          {layout.rows.map((row) => (
            <div key={row.key} className={`cv-leg cv-leg-${row.key}`} role="row" data-testid={`cv-leg-${row.key}`}>
              <div className="cv-leg-label" role="rowheader" title={row.what}>
                {row.label}
              </div>
              <div className="cv-leg-track" role="cell" aria-hidden="true">
                <div
                  className="cv-leg-tail"
                  style={{ left: `${row.start * 100}%`, width: `${(row.p99End - row.start) * 100}%` }}
                />
                <div
                  className="cv-leg-bar"
                  style={{ left: `${row.start * 100}%`, width: `${Math.max(0.004, row.p50End - row.start) * 100}%` }}
                />
              </div>
              <div className="cv-leg-figures numeric" role="cell">
                p50 {ms(row.p50)} · p99 {ms(row.p99)} ms{row.probeTimed ? ` ${layout.bound}` : ''}
              </div>
            </div>
          ))}
          <div className="cv-leg" aria-hidden="true">
            <div />
            <div className="cv-axis dim">
              <span>0</span>
              <span>{ms(layout.axisNs)} ms</span>
            </div>
          </div>
        </div>
      )}
      <div className={`cv-edges ${layout.edgesClean ? '' : 'warn-text'}`} data-testid="cv-edges">
        CV edges: {layout.edges}
      </div>
    </section>
  );
}

/** The picture of a finished run (the Run page's summary, a saved report). */
export function CvDecompositionOfSummary({
  chatToCv,
  stages,
  blackBox,
}: {
  chatToCv: ChatToCvSummary;
  stages: Readonly<Partial<Record<string, StageStatistics>>>;
  blackBox: boolean;
}): React.JSX.Element {
  const layout = layoutCvDecomposition({
    blackBox,
    decomposition: chatToCv.decomposition,
    stages,
    boundUs: chatToCv.clock?.boundUs ?? null,
    counts: chatToCv,
  });
  return (
    <CvDecompositionView
      layout={layout}
      title="Chat → OSC → CV"
      detail={
        <>
          probe on <code>{chatToCv.probe.path}</code> ({chatToCv.probe.firmware ?? 'firmware unknown'},{' '}
          {chatToCv.probe.link} link) watching <code>{chatToCv.variable}</code> at {chatToCv.thresholdMv} mV ·{' '}
          {chatToCv.viewers} probe viewers at {chatToCv.rateHz} Hz · {chatToCv.sent} probe messages sent
          {chatToCv.problem && <span className="bad-text"> · partial: {chatToCv.problem}</span>}
        </>
      }
    />
  );
}

/** The picture while the run goes on, from its progress. */
export function CvDecompositionLive({
  progress,
  blackBox,
}: {
  progress: ChatToCvProgress;
  blackBox: boolean;
}): React.JSX.Element {
  const layout = layoutCvDecomposition({
    blackBox,
    decomposition: progress.decomposition,
    boundUs: progress.boundUs,
    counts: progress,
  });
  return (
    <CvDecompositionView
      layout={layout}
      title="Chat → OSC → CV, live"
      detail={
        <>
          {progress.sent} probe messages sent so far
          {progress.problem && <span className="bad-text"> · {progress.problem}</span>}
        </>
      }
    />
  );
}
