import type { Scenario } from '../../../shared/scenario';

/**
 * One instance's share of a scenario: 1/count of the arrival rate (or of the users, or of a
 * burst's messages), with its own seed derived from the run's, so the instances together send
 * the whole load and the same seed gives the same traffic again.
 */
export function shareOfScenario(scenario: Scenario, index: number, count: number, seed: number): Scenario {
  if (!(count >= 1) || index < 0 || index >= count) throw new Error(`share ${index} of ${count} is not valid: expected 0 ≤ index < count`);
  const executor = scenario.executor;
  const part = (total: number): number => Math.floor(total / count) + (index < total % count ? 1 : 0);
  let shared: Scenario['executor'];
  switch (executor.type) {
    case 'constant-arrival-rate':
      shared = { ...executor, rate: executor.rate / count };
      break;
    case 'ramping-arrival-rate':
      shared = { ...executor, startRate: executor.startRate / count, stages: executor.stages.map((stage) => ({ ...stage, target: stage.target / count })) };
      break;
    case 'virtual-users':
      shared = { ...executor, users: Math.max(1, part(executor.users)) };
      break;
    case 'burst':
      shared = { ...executor, messages: Math.max(1, part(executor.messages)), users: Math.max(1, part(executor.users)) };
      break;
    case 'replay':
      // The scenario contract refuses a multi-instance replay; one log is not split across engines.
      throw new Error('a replay plays one log through one engine: it has no share per instance');
  }
  // Golden-ratio spacing keeps the derived seeds apart and inside 32 bits.
  const shareSeed = (seed + Math.imul(index, 0x9e3779b9)) >>> 0;
  return { ...scenario, executor: shared, seed: shareSeed, capacitySearch: undefined };
}
