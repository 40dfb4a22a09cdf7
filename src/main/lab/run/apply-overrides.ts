import type { RunOverrides } from '../../../shared/run';
import type { Executor, Scenario } from '../../../shared/scenario';

/**
 * Applies the command line's (or the console's) --duration, --rate, --users and --seed to a
 * parsed scenario. A ramp keeps its shape: durations and targets are scaled, not replaced.
 */
export function applyOverrides(scenario: Scenario, overrides: RunOverrides | undefined): Scenario {
  if (!overrides) return scenario;
  const { durationMs, rate, users, seed } = overrides;
  let executor: Executor = scenario.executor;
  let capacitySearch = scenario.capacitySearch;
  switch (executor.type) {
    case 'constant-arrival-rate':
      executor = { ...executor, rate: rate ?? executor.rate, duration: durationMs ?? executor.duration };
      if (capacitySearch && rate !== undefined) capacitySearch = { ...capacitySearch, maxRate: Math.max(rate, capacitySearch.startRate) };
      break;
    case 'ramping-arrival-rate': {
      const total = executor.stages.reduce((sum, stage) => sum + stage.duration, 0);
      const peak = Math.max(executor.startRate, ...executor.stages.map((stage) => stage.target));
      const timeScale = durationMs !== undefined && total > 0 ? durationMs / total : 1;
      const rateScale = rate !== undefined && peak > 0 ? rate / peak : 1;
      executor = {
        ...executor,
        startRate: executor.startRate * rateScale,
        stages: executor.stages.map((stage) => ({ target: stage.target * rateScale, duration: stage.duration * timeScale })),
      };
      break;
    }
    case 'virtual-users': {
      const scale = durationMs !== undefined ? durationMs / executor.duration : 1;
      executor = {
        ...executor,
        users: users ?? executor.users,
        duration: durationMs ?? executor.duration,
        ...(executor.rampUp !== undefined ? { rampUp: executor.rampUp * scale } : {}),
        ...(executor.rampDown !== undefined ? { rampDown: executor.rampDown * scale } : {}),
      };
      break;
    }
    case 'burst':
      executor = {
        ...executor,
        users: users ?? executor.users,
        window: durationMs ?? executor.window,
        // --rate on a burst keeps the window and sends rate × window messages.
        messages: rate !== undefined ? Math.max(1, Math.round((rate * (durationMs ?? executor.window)) / 1000)) : executor.messages,
      };
      break;
    case 'replay':
      // A replay keeps its recorded pace and viewers: only how long it lasts can change.
      if (durationMs !== undefined) executor = { ...executor, duration: durationMs };
      break;
  }
  return {
    ...scenario,
    executor,
    ...(capacitySearch ? { capacitySearch } : {}),
    traffic: { ...scenario.traffic, users: users ?? scenario.traffic.users },
    ...(seed !== undefined ? { seed } : {}),
  };
}
