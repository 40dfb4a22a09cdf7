import type { RigConfig, VariableConfig } from '../../../../shared/rig';
import { probeMessageCount } from '../../../../shared/scenario';
import type { ProbeViewersRequest } from '../../common/engine-protocol';
import type { Arrival, ArrivalPlan } from './arrival-plan';
import type { GeneratedMessage } from './traffic-generator';

// Chat → CV: while a probe watches the rig's test variable, probe viewers move it across the
// probe's threshold (low, high, low, …) at a few Hz, mixed into the load. Their names rotate so
// that a bot's per-viewer limit never holds one back; viewers of the load never send the variable.

/**
 * The load's plan with the probe viewers' messages merged in: one every 1/rateHz, the first half
 * a period in, over the plan's duration. A probe arrival carries its index in `probe`.
 */
export class ProbeArrivals implements ArrivalPlan {
  readonly plannedMessages: number;
  readonly plannedDurationMs: number;
  readonly steps: ArrivalPlan['steps'];
  private readonly periodNs: number;
  private readonly probeCount: number;
  private probeIndex = 0;
  private nextLoad: Arrival | undefined;
  private loadPulled = false;

  constructor(
    private readonly load: ArrivalPlan,
    rateHz: number,
  ) {
    this.periodNs = 1e9 / rateHz;
    this.probeCount = probeMessageCount(load.plannedDurationMs, rateHz);
    this.plannedMessages = load.plannedMessages + this.probeCount;
    this.plannedDurationMs = load.plannedDurationMs;
    this.steps = load.steps;
  }

  next(): Arrival | undefined {
    if (!this.loadPulled) {
      this.nextLoad = this.load.next();
      this.loadPulled = true;
    }
    const probeAtNs = this.probeIndex < this.probeCount ? Math.round((this.probeIndex + 0.5) * this.periodNs) : Number.POSITIVE_INFINITY;
    const load = this.nextLoad;
    if (load && load.atNs <= probeAtNs) {
      this.loadPulled = false;
      return load;
    }
    if (!Number.isFinite(probeAtNs)) return undefined;
    const probe = this.probeIndex++;
    return { atNs: probeAtNs, probe };
  }
}

/** Low and high: the ends of the variable's range, each written in the rig's grammar. */
interface Level {
  text(index: number): string;
}

/**
 * The probe viewers' messages: even indexes set the test variable low, odd ones high. A float's
 * value differs a little from message to message (inside 2–10 % of each end of its range), so a
 * black-box run can tell one probe message's OSC from the next by value.
 */
export class ProbeViewers {
  private readonly names: string[];
  private readonly low: Level;
  private readonly high: Level;

  constructor(rig: RigConfig, request: ProbeViewersRequest) {
    const variable = rig.variables.find((candidate) => candidate.name === request.variable);
    if (!variable) throw new Error(`the probe's test variable "${request.variable}" is not in rig "${rig.name}"`);
    this.names = Array.from({ length: request.viewers }, (_, index) => `probe-${index + 1}`);
    this.low = level(variable, 'low');
    this.high = level(variable, 'high');
  }

  /** Direction the CV should move for probe message `index`. */
  static direction(index: number): 'rise' | 'fall' {
    return index % 2 === 1 ? 'rise' : 'fall';
  }

  /** Probe message `index`: its viewer (rotating) and its text. */
  message(index: number): GeneratedMessage {
    const user = this.names[index % this.names.length] as string;
    const text = index % 2 === 1 ? this.high.text(index) : this.low.text(index);
    return { user, text, kind: 'probe', probeIndex: index };
  }
}

function level(variable: VariableConfig, end: 'low' | 'high'): Level {
  const name = variable.name;
  switch (variable.kind) {
    case 'bool':
      return { text: () => `${name}=${end === 'high' ? 'on' : 'off'}` };
    case 'enum': {
      const values = variable.values ?? [];
      const value = end === 'high' ? values[values.length - 1] : values[0];
      return { text: () => `${name}=${value ?? (end === 'high' ? 'max' : 'min')}` };
    }
    case 'int': {
      const value = end === 'high' ? variable.max : variable.min;
      return { text: () => `${name}=${value < 0 ? `=${value}` : value}` };
    }
    case 'float': {
      const span = variable.max - variable.min;
      return {
        text: (index) => {
          // 2–10 % in from the end, stepping by a golden-ratio fraction: distinct over many messages.
          const inset = 0.02 + 0.08 * ((index * 0.6180339887498949) % 1);
          const value = end === 'high' ? variable.max - inset * span : variable.min + inset * span;
          const text = String(Number(value.toPrecision(9)));
          return value < 0 ? `${name}==${text}` : `${name}=${text}`;
        },
      };
    }
  }
}
