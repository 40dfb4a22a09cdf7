import type { RigConfig, VariableConfig } from '../../../../shared/rig';
import { MAX_ASSIGNMENTS, MAX_MESSAGE_LENGTH } from '../../../../shared/rejection';
import { MESSAGE_KINDS, type MessageKind, type TrafficModel } from '../../../../shared/scenario';
import { SeededRandom } from './seeded-random';
import { WeightedPicker } from './weighted-picker';

/** One chat message the generator made (and what it was meant to be), or one replayed from a log. */
export interface GeneratedMessage {
  readonly user: string;
  readonly text: string;
  readonly kind: MessageKind | 'recorded' | 'probe';
  /** A probe viewer's message: its index among them. */
  readonly probeIndex?: number;
}

/** Names no rig is expected to define, for `unknown_variable`. */
const UNKNOWN_NAMES = ['volume', 'glow', 'blur', 'pitch', 'tempo', 'gain', 'feedback', 'mix', 'color', 'strobe'];
const BAD_VALUES = ['abc', 'NaN', 'Infinity', '-Infinity', '0.4.2', '--3', '1e999', '0x1g', '%', '+'];
/** Control characters and invisible formatting a viewer could paste. */
const BAD_CHARACTERS = ['\u0000', '\u0007', '\u001b', '\u007f', '\u200b', '\u200d', '\u202e', '\u2066', '\ufeff'];
// Word lists picked from per message: made once here, not on every call.
const BLANKS = ['', ' ', '   ', '\t'];
const BOOL_WORDS = ['on', 'off', '1', '0', 'min', 'max'];
const ENDS = ['min', 'max'];
const NAMED_LEVELS = ['min', 'mid', 'max'];

/**
 * Makes chat traffic from a seed: who speaks (Zipf-skewed activity), which variable
 * (Zipf-skewed popularity), which kind of message (mix weights), and every grammar form of a
 * value (number, percent, relative, names, negative absolutes written `zoom==-0.5`), so a run
 * exercises each path of the validator. The same seed and rig give the same messages.
 */
export class TrafficGenerator {
  private readonly random: SeededRandom;
  private readonly users: WeightedPicker;
  private readonly variables: WeightedPicker;
  private readonly kinds: WeightedPicker;
  private readonly kindList: MessageKind[];
  private readonly unknownNames: string[];
  private readonly strictNumeric: VariableConfig[];
  private readonly numeric: VariableConfig[];
  private readonly userNames: string[] = [];
  /** Position in the low-discrepancy sequence behind distinct values. */
  private distinctIndex = 0;
  private distinctOffset: number | undefined;

  constructor(
    private readonly rig: RigConfig,
    private readonly traffic: TrafficModel,
    seed: number,
  ) {
    this.random = new SeededRandom(seed);
    this.users = WeightedPicker.zipf(traffic.users, traffic.userSkew);
    this.variables = WeightedPicker.zipf(rig.variables.length, traffic.variableSkew);
    this.kindList = MESSAGE_KINDS.filter((kind) => (traffic.mix[kind] ?? 0) > 0);
    this.kinds = new WeightedPicker(this.kindList.map((kind) => traffic.mix[kind] ?? 0));
    const names = new Set(rig.variables.map((variable) => variable.name));
    this.unknownNames = UNKNOWN_NAMES.filter((name) => !names.has(name));
    if (this.unknownNames.length === 0) this.unknownNames.push('not_a_variable_here');
    this.numeric = rig.variables.filter((variable) => variable.kind === 'float' || variable.kind === 'int');
    this.strictNumeric = this.numeric.filter((variable) => !variable.clamp);
  }

  /** The next message; `userIndex` fixes the sender (virtual users, bursts), else activity skew picks one. */
  next(userIndex?: number): GeneratedMessage {
    const kind = this.kindList[this.kinds.pick(this.random)] as MessageKind;
    const user = kind === 'spam' ? `spammer-${this.random.int(this.traffic.spammers) + 1}` : this.userName(userIndex ?? this.users.pick(this.random));
    return { user, text: this.text(kind), kind };
  }

  /** `count` messages in a row (for tests and previews). */
  take(count: number): GeneratedMessage[] {
    const messages: GeneratedMessage[] = [];
    for (let i = 0; i < count; i++) messages.push(this.next());
    return messages;
  }

  private userName(index: number): string {
    let name = this.userNames[index];
    if (name === undefined) {
      name = `viewer-${String(index + 1).padStart(5, '0')}`;
      this.userNames[index] = name;
    }
    return name;
  }

  private variable(): VariableConfig {
    return this.rig.variables[this.variables.pick(this.random)] as VariableConfig;
  }

  private text(kind: MessageKind): string {
    const random = this.random;
    switch (kind) {
      case 'valid':
      case 'spam':
        return this.single(this.variable());
      case 'multi':
        return this.multi(2 + random.int(this.traffic.maxAssignments - 1));
      case 'empty':
        return random.pick(BLANKS);
      case 'too_long': {
        const head = this.assignment(this.variable());
        return `${head} ${'w'.repeat(MAX_MESSAGE_LENGTH + 1 - head.length + random.int(200))}`;
      }
      case 'too_many': {
        const parts: string[] = [];
        const count = MAX_ASSIGNMENTS + 1 + random.int(4);
        for (let i = 0; i < count; i++) parts.push(this.assignment(this.variable()));
        return parts.join(' ');
      }
      case 'bad_char': {
        const text = this.single(this.variable());
        const at = 1 + random.int(Math.max(1, text.length - 1));
        return text.slice(0, at) + random.pick(BAD_CHARACTERS) + text.slice(at);
      }
      case 'unknown_variable':
        return `${random.pick(this.unknownNames)}=${this.formatNumber(random.next())}`;
      case 'bad_value': {
        const variable = this.numeric.length > 0 ? random.pick(this.numeric) : this.variable();
        return `${variable.name}=${random.pick(BAD_VALUES)}`;
      }
      case 'out_of_range':
        return this.outOfRange();
    }
  }

  /** One assignment in one of the three single forms: `!set hue 0.4`, `!hue 0.4`, `hue=0.4`. */
  private single(variable: VariableConfig): string {
    const value = this.value(variable);
    // A leading '-' after '=' means relative; an absolute negative is written `zoom==-0.5`,
    // which only the `=` form has.
    if (value.startsWith('=')) return `${variable.name}=${value}`;
    switch (this.random.int(3)) {
      case 0:
        return `!set ${variable.name} ${value}`;
      case 1:
        return `!${variable.name} ${value}`;
      default:
        return `${variable.name}=${value}`;
    }
  }

  private assignment(variable: VariableConfig): string {
    return `${variable.name}=${this.value(variable)}`;
  }

  /** `hue=0.4 sat=80%`: distinct variables, as many as the rig has at most. */
  private multi(count: number): string {
    const chosen = new Set<VariableConfig>();
    const wanted = Math.min(count, this.rig.variables.length);
    for (let attempts = 0; chosen.size < wanted && attempts < 64; attempts++) chosen.add(this.variable());
    if (chosen.size < 2) for (const variable of this.rig.variables) if (chosen.size < wanted) chosen.add(variable);
    return [...chosen].map((variable) => this.assignment(variable)).join(' ');
  }

  /** A valid value for the variable, in a randomly chosen form. */
  private value(variable: VariableConfig): string {
    const random = this.random;
    switch (variable.kind) {
      case 'bool':
        return random.pick(BOOL_WORDS);
      case 'enum': {
        const names = variable.values ?? [];
        return random.next() < 0.8 && names.length > 0 ? random.pick(names) : random.pick(ENDS);
      }
      case 'int':
      case 'float': {
        const span = variable.max - variable.min;
        const form = random.int(10);
        if (this.traffic.distinctValues && form < 6 && variable.kind === 'float') return this.distinctValue(variable, form < 4);
        if (form < 4) {
          let value = variable.min + random.next() * span;
          if (variable.kind === 'int') value = Math.round(value);
          const text = this.formatNumber(value);
          return value < 0 ? `=${text}` : text;
        }
        if (form < 6) return `${random.int(101)}%`;
        if (form < 8) {
          const sign = random.next() < 0.5 ? '+' : '-';
          if (random.next() < 0.5) return `${sign}${1 + random.int(20)}%`;
          const delta = variable.kind === 'int' ? Math.max(1, Math.round(span * 0.05 * random.next())) : span * 0.1 * random.next();
          return `${sign}${this.formatNumber(delta)}`;
        }
        return random.pick(NAMED_LEVELS);
      }
    }
  }

  /** A number outside the range of a variable that rejects instead of clamping. */
  private outOfRange(): string {
    const random = this.random;
    const candidates = this.strictNumeric.length > 0 ? this.strictNumeric : this.numeric;
    const variable = candidates.length > 0 ? random.pick(candidates) : this.variable();
    const span = Math.max(1, variable.max - variable.min);
    const above = random.next() < 0.5;
    const beyond = span * (0.1 + random.next() * 2);
    let value = above ? variable.max + beyond : variable.min - beyond;
    if (variable.kind === 'int') value = Math.round(value);
    // Two decimals at most: a beyond of ≥ 10% of the span cannot round back into the range.
    const text = String(Number(value.toFixed(2)));
    return value < 0 ? `${variable.name}==${text}` : `${variable.name}=${text}`;
  }

  /**
   * A value no recent message used: the golden-ratio sequence spreads consecutive picks far
   * apart (any 10,000 in a row differ by more than 1/30,000 of the range), written with enough
   * digits that float32 keeps them apart after the rig's scaling. Absolute, or percent of the range.
   */
  private distinctValue(variable: VariableConfig, absolute: boolean): string {
    // The seed picks where the sequence starts, so runs with other seeds send other values.
    this.distinctOffset ??= this.random.next();
    const fraction = (this.distinctOffset + this.distinctIndex++ * 0.6180339887498949) % 1;
    if (!absolute) return `${(fraction * 100).toFixed(5)}%`;
    const span = variable.max - variable.min;
    const digits = Math.min(12, Math.max(1, 7 - Math.floor(Math.log10(Math.max(span, 1e-9)))));
    const value = variable.min + fraction * span;
    const text = String(Number(value.toFixed(digits)));
    return value < 0 ? `=${text}` : text;
  }

  private formatNumber(value: number): string {
    const digits = this.random.int(4);
    return String(Number(value.toFixed(digits)));
  }
}
