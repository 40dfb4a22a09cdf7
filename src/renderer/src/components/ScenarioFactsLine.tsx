import { scenarioFacts } from '../../../shared/scenario-facts';
import { Term } from './Term';

/** "executor constant-arrival-rate · aborts on a broken threshold after an abort grace of 1 s", each word with its explanation. */
export function ScenarioFactsLine({ scenario }: { scenario: unknown }): React.JSX.Element | null {
  const facts = scenarioFacts(scenario);
  if (!facts.executor && !facts.abortGrace) return null;
  return (
    <span data-testid="scenario-facts">
      {facts.executor && (
        <>
          <Term name="executor">executor</Term> <code>{facts.executor}</code>
        </>
      )}
      {facts.executor && facts.abortGrace && ' · '}
      {facts.abortGrace && (
        <>
          aborts on a broken threshold after an <Term name="abort grace">abort grace</Term> of {facts.abortGrace}
        </>
      )}
    </span>
  );
}
