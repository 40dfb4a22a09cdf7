import type { OutcomeSink } from '../pipeline/pipeline-types';

/** Hands each outcome to several sinks (the audit log and the metrics exporter). */
export function combineSinks(...sinks: readonly (OutcomeSink | undefined)[]): OutcomeSink {
  const present = sinks.filter((sink): sink is OutcomeSink => sink !== undefined);
  return {
    record(entry) {
      for (const sink of present) sink.record(entry);
    },
  };
}
