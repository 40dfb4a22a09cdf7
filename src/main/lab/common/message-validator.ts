import type { Assignment, Rejection, ValidationResult } from '../../../shared/message';
import { deferRejection } from './deferred-rejection';
import { MAX_ASSIGNMENTS, MAX_MESSAGE_LENGTH, type RejectionCode } from '../../../shared/rejection';
import type { RigConfig, VariableConfig } from '../../../shared/rig';
import { isWholeKind, lowerBound, roundHalfAwayFromZero, upperBound } from './value-resolver';

/** What the grammar needs of one variable, worked out once per rig so validate() only looks things up. */
interface CompiledVariable {
  readonly name: string;
  readonly kind: VariableConfig['kind'];
  readonly min: number;
  readonly max: number;
  readonly whole: boolean;
  readonly clamp: boolean;
  /** Lower-case words that stand for a value: min, mid, max, on, off (bool: true, false; enum: its value names). */
  readonly words: ReadonlyMap<string, number>;
  /** "0–1", "-1 to 1", "0–100%": how the range reads in a detail. */
  readonly rangeText: string;
  /** Plain words listing the forms this variable accepts. */
  readonly expected: string;
  /** A word of this variable reads like a number (an enum value "1"): words are looked up first. */
  readonly numericWords: boolean;
  /** The words as parallel lists, for lookups without a substring (plain ASCII words only). */
  readonly wordKeys: readonly string[];
  readonly wordValues: readonly number[];
}

/** One `name value` pair as written, before the name and value are checked. */
interface WrittenAssignment {
  readonly name: string;
  /** undefined: the viewer gave no value. */
  readonly value: string | undefined;
  /** The name came right after `!` (so an unknown one is an unknown command). */
  readonly command: boolean;
  variable?: CompiledVariable;
}

// Control characters, invisible formatting (zero-width, bidi overrides, BOM), line and paragraph
// separators, and unpaired surrogates (not characters at all). Compiled once.
const BAD_CHARACTER = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;
const CONTROL = /^\p{Cc}$/u;
const FORMAT = /^\p{Cf}$/u;
const LINE_SEPARATOR = /^\p{Zl}$/u;
const PARAGRAPH_SEPARATOR = /^\p{Zp}$/u;
/** A plain decimal: `4`, `0.4`, `.5`, `5.`, `1e-2`. No sign (handled apart), no hex, no `Infinity`, no `_`. */
const DECIMAL = /^(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;

const EXCLAMATION = 0x21;
const EQUALS = 0x3d;
const PLUS = 0x2b;
const MINUS = 0x2d;
const PERCENT = 0x25;

const FORMS = 'expected hue=0.4, !hue 0.4 or !set hue 0.4 (several: hue=0.4 sat=80%)';
const QUOTE_LIMIT = 40;

/**
 * A validated message's assignments in reused arrays: what the hot path reads instead of
 * Assignment objects. Valid until the next validateInto() with the same instance.
 */
export class ParsedAssignments {
  count = 0;
  /** Variable names, the rig's own strings. */
  readonly variables: string[] = new Array<string>(MAX_ASSIGNMENTS).fill('');
  /** 1: a change added to the current value; 0: an absolute value. */
  readonly relative = new Uint8Array(MAX_ASSIGNMENTS);
  readonly values = new Float64Array(MAX_ASSIGNMENTS);

  /** The assignments as objects (allocates: for the slow path and for people). */
  toAssignments(): Assignment[] {
    const assignments: Assignment[] = [];
    for (let index = 0; index < this.count; index++) {
      const value = this.values[index] as number;
      const variable = this.variables[index] as string;
      const raw = String(value);
      assignments.push(
        this.relative[index] === 1
          ? { variable, spec: { kind: 'relative', delta: value }, raw }
          : { variable, spec: { kind: 'absolute', value }, raw },
      );
    }
    return assignments;
  }
}

/**
 * Checks chat text against the rig's variables and turns it into assignments, or into one typed
 * rejection. Pure and allocation-light: everything about the rig is precompiled in the constructor.
 * Never throws.
 */
export class MessageValidator {
  private readonly variables = new Map<string, CompiledVariable>();
  private readonly names: readonly string[];
  /** The same variables as a list with their lower-case keys, for lookups without a substring. */
  private readonly compiled: readonly { readonly key: string; readonly variable: CompiledVariable }[];

  constructor(rig: RigConfig) {
    for (const variable of rig.variables) this.variables.set(variable.name.toLowerCase(), compile(variable));
    this.names = [...this.variables.keys()];
    this.compiled = [...this.variables].map(([key, variable]) => ({ key, variable }));
  }

  /**
   * validate() for the hot path: writes the assignments into `out` and answers undefined, or
   * answers the rejection. The common shapes (`name=value …` in plain ASCII) are read in place
   * without building tokens or Assignment objects; anything else goes through validate(), so
   * both give the same result for every text (a property test holds them to it).
   */
  validateInto(text: string, out: ParsedAssignments): Rejection | undefined {
    if (this.readSimple(text, out)) return undefined;
    const result = this.validate(text);
    if (!result.ok) return result.rejection;
    out.count = result.assignments.length;
    for (let index = 0; index < out.count; index++) {
      const assignment = result.assignments[index] as Assignment;
      out.variables[index] = assignment.variable;
      const spec = assignment.spec;
      out.relative[index] = spec.kind === 'relative' ? 1 : 0;
      out.values[index] = spec.kind === 'relative' ? spec.delta : spec.value;
    }
    return undefined;
  }

  /**
   * Reads `name=value` words separated by spaces, plain printable ASCII, when every one is
   * accepted; false (and `out` unspecified) for anything else, which validate() then decides.
   */
  private readSimple(text: string, out: ParsedAssignments): boolean {
    if (typeof text !== 'string') return false;
    const length = text.length;
    if (length === 0 || length > MAX_MESSAGE_LENGTH || text.charCodeAt(0) === EXCLAMATION) return false;
    let count = 0;
    let index = 0;
    while (index < length) {
      while (index < length && text.charCodeAt(index) === 0x20) index++;
      if (index >= length) break;
      const start = index;
      let equals = -1;
      while (index < length) {
        const code = text.charCodeAt(index);
        if (code === 0x20) break;
        if (code < 0x21 || code > 0x7e) return false;
        if (code === EQUALS && equals === -1) equals = index;
        index++;
      }
      // The name before the first '=', a value after it in the same word.
      if (equals <= start || equals === index - 1 || count === MAX_ASSIGNMENTS) return false;
      const variable = this.compiledAt(text, start, equals);
      if (variable === undefined) return false;
      if (!readWord(variable, text, equals + 1, index, parsedValue) && !readPlainNumber(variable, text, equals + 1, index, parsedValue)) {
        if (parseValueInto(variable, text.slice(equals + 1, index), parsedValue) !== undefined) return false;
      }
      // The same variable twice: the last one wins, in the place of the first.
      let slot = 0;
      while (slot < count && out.variables[slot] !== variable.name) slot++;
      if (slot === count) count++;
      out.variables[slot] = variable.name;
      out.relative[slot] = parsedValue.relative ? 1 : 0;
      out.values[slot] = parsedValue.value;
    }
    out.count = count;
    return count > 0;
  }

  /** The variable named by text[start, end) (ASCII case-insensitive), found without a substring. */
  private compiledAt(text: string, start: number, end: number): CompiledVariable | undefined {
    const length = end - start;
    for (const { key, variable } of this.compiled) {
      if (key.length !== length) continue;
      let index = 0;
      while (index < length) {
        let code = text.charCodeAt(start + index);
        if (code >= 0x41 && code <= 0x5a) code += 0x20;
        if (code !== key.charCodeAt(index)) break;
        index++;
      }
      if (index === length) return variable;
    }
    return undefined;
  }

  /** Validates one chat message: its assignments, or the first rejection in the documented order of checks. */
  validate(text: string): ValidationResult {
    if (typeof text !== 'string') return reject('empty', notText, undefined);
    let start = 0;
    let end = text.length;
    while (start < end && isTrimmable(text.charCodeAt(start))) start++;
    while (end > start && isTrimmable(text.charCodeAt(end - 1))) end--;
    if (start === end) return reject('empty', emptyDetail, undefined);

    // A code point is one or two UTF-16 units, so text of at most 256 units needs no counting.
    if (end - start > MAX_MESSAGE_LENGTH) {
      const length = countCodePoints(text, start, end);
      if (length > MAX_MESSAGE_LENGTH) {
        return reject('too_long', tooLongDetail, length);
      }
    }

    const message = start === 0 && end === text.length ? text : text.slice(start, end);
    // search() answers with an index only (exec() would build a match array for every message).
    const badAt = message.search(BAD_CHARACTER);
    if (badAt >= 0) return badCharacter(text, start + badAt);

    const tokens = splitTokens(message);
    let index = 0;
    let commandMode = false;
    let firstIsCommand = false;
    if (message.charCodeAt(0) === EXCLAMATION) {
      commandMode = true;
      const command = (tokens[0] ?? '').slice(1);
      if (lowerAscii(command) === 'set') {
        index = 1;
        if (tokens.length === 1) return reject('bad_value', setAloneDetail, undefined);
      } else {
        // `!hue 0.4 sat 80%` reads like `!set hue 0.4 sat 80%`; `!hue=0.4` like `hue=0.4`.
        tokens[0] = command;
        firstIsCommand = true;
      }
    } else if (message.indexOf('=') === -1) {
      return reject('bad_value', notCommandDetail, message);
    }

    // Structure: which words are names and which are values. `name=value`, `name= value`,
    // `name = value`, `name =value` everywhere; `name value` only after `!`.
    const written: WrittenAssignment[] = [];
    // The first word that is not part of an assignment; put into words only if asked.
    let structureProblem: string | undefined;
    while (index < tokens.length) {
      const command = firstIsCommand && index === 0;
      const token = tokens[index++] as string;
      const equals = token.indexOf('=');
      let value: string | undefined;
      if (equals >= 0) {
        value = token.slice(equals + 1);
        if (value === '') value = takeValue(tokens, index) ? tokens[index++] : undefined;
        written.push({ name: token.slice(0, equals), value, command });
        continue;
      }
      const next = tokens[index];
      if (next === '=') {
        index++;
        value = takeValue(tokens, index) ? tokens[index++] : undefined;
      } else if (next !== undefined && takeValue(tokens, index) && (commandMode || next.charCodeAt(0) === EQUALS)) {
        value = next;
        index++;
      } else if (!commandMode) {
        structureProblem ??= token;
        continue;
      }
      written.push({ name: token, value, command });
    }

    if (written.length > MAX_ASSIGNMENTS) {
      return reject('too_many', tooManyDetail, written.length);
    }
    if (written.length === 0) return reject('bad_value', structureDetail, structureProblem, this.variables);

    for (const assignment of written) {
      const variable = this.variables.get(lowerAscii(assignment.name));
      if (variable === undefined) return reject('unknown_variable', unknownDetail, assignment, this.names);
      assignment.variable = variable;
    }
    if (structureProblem !== undefined) return reject('bad_value', structureDetail, structureProblem, this.variables);

    // Every bad value is reported before any out-of-range one, whatever their order in the message.
    const assignments: Assignment[] = [];
    let outOfRange: Rejection | undefined;
    for (const { variable, value } of written) {
      const parsed = parseValue(variable as CompiledVariable, value);
      if ('code' in parsed) {
        if (parsed.code === 'bad_value') return { ok: false, rejection: parsed };
        outOfRange ??= parsed;
        continue;
      }
      // The same variable twice: the last one wins, in the place of the first.
      let replaced = false;
      for (let slot = 0; slot < assignments.length; slot++) {
        if ((assignments[slot] as Assignment).variable === parsed.variable) {
          assignments[slot] = parsed;
          replaced = true;
          break;
        }
      }
      if (!replaced) assignments.push(parsed);
    }
    if (outOfRange !== undefined) return { ok: false, rejection: outOfRange };
    return { ok: true, assignments };
  }
}

function reject<A, B = undefined>(code: RejectionCode, format: (a: A, b: B) => string, a: A, b?: B): ValidationResult {
  return { ok: false, rejection: deferRejection(code, format, a, b) };
}

// The details below are written only when a rejection's detail is read (DeferredRejection).
const notText = (): string => 'expected chat text';
const emptyDetail = (): string => `the message is empty: ${FORMS}`;
const tooLongDetail = (length: number): string =>
  `the message is ${length} characters long; at most ${MAX_MESSAGE_LENGTH} are allowed`;
const setAloneDetail = (): string => `"!set" needs a variable and a value, like !set hue 0.4`;
const notCommandDetail = (message: string): string => `${quote(message)} is not a command: ${FORMS}`;
const tooManyDetail = (count: number): string =>
  `the message sets ${count} values; at most ${MAX_ASSIGNMENTS} are allowed in one message`;

function structureDetail(token: string | undefined, variables: ReadonlyMap<string, CompiledVariable>): string {
  if (token === undefined) return FORMS;
  return variables.has(lowerAscii(token))
    ? `${token} needs "=" before its value: write ${token}=0.4 or !${token} 0.4`
    : `${quote(token)} is not an assignment: ${FORMS}`;
}

function unknownDetail(assignment: WrittenAssignment, names: readonly string[]): string {
  const name = assignment.name;
  if (name === '') {
    return assignment.command
      ? `"!" must be followed directly by set or a variable name, like !hue 0.4`
      : `a value has no variable name before "=": ${FORMS}`;
  }
  const what = assignment.command
    ? `${quote(`!${name}`)} is neither !set nor a variable`
    : `unknown variable ${quote(name)}`;
  const suggestion = closestName(lowerAscii(name), names);
  return suggestion !== undefined ? `${what}: did you mean ${suggestion}?` : `${what}; known variables: ${names.join(', ')}`;
}

function compile(variable: VariableConfig): CompiledVariable {
  // + 0: a rig bound written as -0 must not come back as a −0 value.
  const min = lowerBound(variable) + 0;
  const max = upperBound(variable) + 0;
  const whole = isWholeKind(variable);
  const middle = min / 2 + max / 2;
  const mid = whole ? roundHalfAwayFromZero(middle) : middle;
  const words = new Map<string, number>();
  if (variable.kind === 'bool') {
    for (const [word, value] of [
      ['off', 0],
      ['false', 0],
      ['min', 0],
      ['on', 1],
      ['true', 1],
      ['max', 1],
    ] as const) {
      words.set(word, value);
    }
  } else {
    words.set('min', min).set('off', min).set('mid', mid).set('max', max).set('on', max);
  }
  // An enum's own value names win over the generic words.
  variable.values?.forEach((value, index) => words.set(value.toLowerCase(), index));

  const rangeText = min < 0 ? `${min} to ${max}` : `${min}–${max}`;
  const step = whole ? '1' : '0.5';
  const negative = min < 0 ? `; -${step} is a change, write =-${step} to set a negative value` : '';
  let expected: string;
  switch (variable.kind) {
    case 'bool':
      expected = '0, 1, on, off, true or false';
      break;
    case 'enum':
      expected = `one of ${variable.values?.join(', ') ?? ''}, an index ${rangeText}, or a step +1 or -1`;
      break;
    case 'int':
      expected = `a whole number ${rangeText}, a percent like 80%, a change like +1 or -5%, or min, mid, max, on, off${negative}`;
      break;
    case 'float':
      expected = `a number ${rangeText} like ${mid}, a percent like 80%, a change like +0.1 or -5%, or min, mid, max, on, off${negative}`;
      break;
  }
  return {
    name: variable.name,
    kind: variable.kind,
    min,
    max,
    whole,
    clamp: variable.clamp,
    words,
    rangeText,
    expected,
    numericWords: [...words.keys()].some((word) => /^[\d.]/.test(word)),
    // A non-ASCII word (an enum value "ü") is left to the Map: lower-casing differs there.
    wordKeys: [...words.keys()].filter((word) => /^[\x21-\x7e]+$/.test(word)),
    wordValues: [...words].filter(([word]) => /^[\x21-\x7e]+$/.test(word)).map(([, value]) => value),
  };
}

/** One parsed value: written by parseValueInto, read at once (validate() is synchronous). */
interface ParsedValue {
  relative: boolean;
  /** The absolute value, or the change when relative. */
  value: number;
  clamped: boolean;
}

const parsedValue: ParsedValue = { relative: false, value: 0, clamped: false };

/**
 * One value as written → an Assignment, or the rejection (bad_value / out_of_range) it earns.
 * A leading `+`/`-` always means a change; a leading `=` forces an absolute value (`=-0.5`).
 */
function parseValue(variable: CompiledVariable, raw: string | undefined): Assignment | Rejection {
  const rejection = parseValueInto(variable, raw, parsedValue);
  if (rejection !== undefined) return rejection;
  const name = variable.name;
  const rawText = raw as string;
  if (parsedValue.relative) return { variable: name, spec: { kind: 'relative', delta: parsedValue.value }, raw: rawText };
  return parsedValue.clamped
    ? { variable: name, spec: { kind: 'absolute', value: parsedValue.value }, raw: rawText, clamped: true }
    : { variable: name, spec: { kind: 'absolute', value: parsedValue.value }, raw: rawText };
}

/** parseValueInto's word lookup (`min`, `on`, an enum value; after an optional `=`), done in place. */
function readWord(variable: CompiledVariable, text: string, from: number, end: number, out: ParsedValue): boolean {
  const start = text.charCodeAt(from) === EQUALS ? from + 1 : from;
  const length = end - start;
  const keys = variable.wordKeys;
  for (let word = 0; word < keys.length; word++) {
    const key = keys[word] as string;
    if (key.length !== length) continue;
    let index = 0;
    while (index < length) {
      let code = text.charCodeAt(start + index);
      if (code >= 0x41 && code <= 0x5a) code += 0x20;
      if (code !== key.charCodeAt(index)) break;
      index++;
    }
    if (index === length) {
      out.relative = false;
      out.clamped = false;
      out.value = variable.wordValues[word] as number;
      return true;
    }
  }
  return false;
}

/** 10^0 … 10^22: every one exact as a double. */
const EXACT_POWERS_OF_TEN = Array.from({ length: 23 }, (_, exponent) => 10 ** exponent);

/**
 * parseValueInto for the commonest values, read from text[start, end) without a substring: plain
 * decimals (`0.4`, `45`, `.5`) and percents (`80%`) inside the range. Digits and the decimal point
 * only, at most 15 significant digits: the mantissa is then an exact integer and one division by
 * an exact power of ten rounds exactly as Number() does. false for anything else (a sign, an
 * exponent, a word, out of range, not whole where it must be): parseValueInto then decides.
 */
function readPlainNumber(variable: CompiledVariable, text: string, from: number, end: number, out: ParsedValue): boolean {
  if (variable.numericWords) return false;
  let start = from;
  // `=` forces an absolute value; a sign without it means a change (as in parseValueInto).
  const forced = text.charCodeAt(start) === EQUALS;
  if (forced) start++;
  const signCode = text.charCodeAt(start);
  const signed = signCode === PLUS || signCode === MINUS;
  if (signed) start++;
  const sign = signCode === MINUS ? -1 : 1;
  const relative = signed && !forced;
  let stop = end;
  const percent = text.charCodeAt(stop - 1) === PERCENT;
  if (percent) stop--;
  let mantissa = 0;
  let digits = 0;
  let fractionDigits = 0;
  let point = false;
  for (let index = start; index < stop; index++) {
    const code = text.charCodeAt(index);
    if (code === 0x2e && !point) {
      point = true;
      continue;
    }
    if (code < 0x30 || code > 0x39) return false;
    // Leading zeros add nothing; they are not significant digits.
    if (mantissa !== 0 || code !== 0x30) digits++;
    if (digits > 15) return false;
    mantissa = mantissa * 10 + (code - 0x30);
    if (point && ++fractionDigits > 22) return false;
  }
  // At least one digit: "." and "%" alone are not numbers.
  if (stop - start - (point ? 1 : 0) === 0) return false;
  const magnitude = fractionDigits === 0 ? mantissa : mantissa / (EXACT_POWERS_OF_TEN[fractionDigits] as number);
  const number = sign * magnitude + 0; // + 0 turns −0 into 0
  out.relative = false;
  out.clamped = false;
  if (variable.kind === 'bool') {
    if (relative || percent || (number !== 0 && number !== 1)) return false;
    out.value = number;
    return true;
  }
  if (relative) {
    let delta: number;
    if (percent) {
      const fraction = number / 100;
      delta = fraction * variable.max - fraction * variable.min;
      if (variable.whole) delta = roundHalfAwayFromZero(delta);
      if (!Number.isFinite(delta)) return false;
    } else {
      if (variable.whole && !Number.isInteger(number)) return false;
      delta = number;
    }
    out.relative = true;
    out.value = delta;
    return true;
  }
  let value: number;
  if (percent) {
    if (number < 0 || number > 100) return false;
    const fraction = number / 100;
    value = variable.min * (1 - fraction) + variable.max * fraction;
    if (variable.whole) value = roundHalfAwayFromZero(value);
    if (value < variable.min) value = variable.min;
    else if (value > variable.max) value = variable.max;
  } else {
    if (variable.whole && !Number.isInteger(number)) return false;
    if (number < variable.min || number > variable.max) return false;
    value = number;
  }
  out.value = value;
  return true;
}

/** The steps of parseValue, writing the result into `out`: the one place values are read. */
function parseValueInto(variable: CompiledVariable, raw: string | undefined, out: ParsedValue): Rejection | undefined {
  out.relative = false;
  out.clamped = false;
  if (raw === undefined || raw === '' || raw === '=') {
    return deferRejection('bad_value', needsValueDetail, variable);
  }
  let text = raw;
  let forced = false;
  if (text.charCodeAt(0) === EQUALS) {
    forced = true;
    text = text.slice(1);
  }
  const word = variable.words.get(lowerAscii(text));
  if (word !== undefined) {
    out.value = word;
    return undefined;
  }

  let sign = 1;
  let relative = false;
  let body = text;
  const first = text.charCodeAt(0);
  if (first === PLUS || first === MINUS) {
    sign = first === MINUS ? -1 : 1;
    relative = !forced;
    body = text.slice(1);
  }
  const percent = body.charCodeAt(body.length - 1) === PERCENT;
  if (percent) body = body.slice(0, -1);
  if (!DECIMAL.test(body)) {
    return deferRejection('bad_value', notAValueDetail, variable, raw);
  }
  const magnitude = Number(body);
  if (!Number.isFinite(magnitude)) {
    return deferRejection('bad_value', tooLargeDetail, variable, raw);
  }
  const number = sign * magnitude + 0; // + 0 turns −0 into 0

  if (variable.kind === 'bool') {
    if (relative || percent || (number !== 0 && number !== 1)) {
      return deferRejection('bad_value', onOffDetail, variable, raw);
    }
    out.value = number;
    return undefined;
  }

  if (relative) {
    let delta: number;
    if (percent) {
      const fraction = number / 100;
      delta = fraction * variable.max - fraction * variable.min;
      if (variable.whole) delta = roundHalfAwayFromZero(delta);
      if (!Number.isFinite(delta)) {
        return deferRejection('bad_value', tooLargeChangeDetail, variable, raw);
      }
    } else {
      if (variable.whole && !Number.isInteger(number)) return notWhole(variable, raw);
      delta = number;
    }
    out.relative = true;
    out.value = delta;
    return undefined;
  }

  let value: number;
  let clamped = false;
  if (percent) {
    let fraction = number / 100;
    if (number < 0 || number > 100) {
      if (!variable.clamp) return outOfRange(variable, raw, '0–100%');
      fraction = number < 0 ? 0 : 1;
      clamped = true;
    }
    // Exact at both ends: 0% is min and 100% is max, with no rounding drift past them.
    value = variable.min * (1 - fraction) + variable.max * fraction;
    if (variable.whole) value = roundHalfAwayFromZero(value);
    if (value < variable.min) value = variable.min;
    else if (value > variable.max) value = variable.max;
  } else {
    if (variable.whole && !Number.isInteger(number)) return notWhole(variable, raw);
    value = number;
    if (value < variable.min || value > variable.max) {
      if (!variable.clamp) return outOfRange(variable, raw, variable.rangeText);
      value = value < variable.min ? variable.min : variable.max;
      clamped = true;
    }
  }
  out.value = value;
  out.clamped = clamped;
  return undefined;
}

function notWhole(variable: CompiledVariable, raw: string): Rejection {
  return deferRejection('bad_value', notWholeDetail, variable, raw);
}

function outOfRange(variable: CompiledVariable, raw: string, rangeText: string): Rejection {
  return deferRejection('out_of_range', outOfRangeDetail, variable, raw, rangeText);
}

const needsValueDetail = (variable: CompiledVariable): string => `${variable.name} needs a value: expected ${variable.expected}`;
const notAValueDetail = (variable: CompiledVariable, raw: string): string =>
  `${variable.name}=${shorten(raw)} is not a value ${variable.name} takes: expected ${variable.expected}`;
const tooLargeDetail = (variable: CompiledVariable, raw: string): string =>
  `${variable.name}=${shorten(raw)} is too large a number: expected ${variable.expected}`;
const onOffDetail = (variable: CompiledVariable, raw: string): string =>
  `${variable.name} is on or off, ${variable.name}=${shorten(raw)} does not apply: expected ${variable.expected}`;
const tooLargeChangeDetail = (variable: CompiledVariable, raw: string): string =>
  `${variable.name}=${shorten(raw)} is too large a change: expected ${variable.expected}`;

function notWholeDetail(variable: CompiledVariable, raw: string): string {
  const what =
    variable.kind === 'enum'
      ? `one of its value names or a whole index ${variable.rangeText}`
      : `a whole number ${variable.rangeText}`;
  return `${variable.name} expects ${what}, not ${shorten(raw)}`;
}

const outOfRangeDetail = (variable: CompiledVariable, raw: string, rangeText: string): string =>
  `${variable.name}=${shorten(raw)} is outside ${rangeText} (${variable.name} does not clamp)`;

/** A value token may follow a name unless it is itself an assignment (`sat=1`). */
function takeValue(tokens: readonly string[], index: number): boolean {
  const next = tokens[index];
  return next !== undefined && next.indexOf('=', 1) === -1;
}

/** Splits on runs of space separators (\p{Zs}); the text holds no other whitespace by now. */
function splitTokens(message: string): string[] {
  const tokens: string[] = [];
  const length = message.length;
  let index = 0;
  while (index < length) {
    while (index < length && isSpace(message.charCodeAt(index))) index++;
    if (index >= length) break;
    const start = index;
    while (index < length && !isSpace(message.charCodeAt(index))) index++;
    tokens.push(message.slice(start, index));
  }
  return tokens;
}

/** \p{Zs}: the space separators. */
function isSpace(code: number): boolean {
  if (code === 0x20) return true;
  if (code < 0xa0) return false;
  return (
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000
  );
}

/**
 * Surrounding whitespace that is trimmed: space separators and tab/LF/VT/FF/CR. Unlike
 * String.prototype.trim, a BOM or a line/paragraph separator stays and is reported as bad_char.
 */
function isTrimmable(code: number): boolean {
  return (code >= 0x09 && code <= 0x0d) || isSpace(code);
}

/** Lower-cases plain ASCII only, so no Unicode case folding (KELVIN SIGN → k) can forge a name. */
function lowerAscii(text: string): string {
  let upper = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code >= 0x80) return text;
    if (code >= 0x41 && code <= 0x5a) upper = true;
  }
  return upper ? text.toLowerCase() : text;
}

/** Code points in text[start, end): a valid surrogate pair is one, a lone surrogate counts as one. */
function countCodePoints(text: string, start: number, end: number): number {
  let count = 0;
  for (let index = start; index < end; index++) {
    const code = text.charCodeAt(index);
    if (code >= 0xd800 && code <= 0xdbff && index + 1 < end) {
      const next = text.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) index++;
    }
    count++;
  }
  return count;
}

function badCharacter(text: string, at: number): ValidationResult {
  return { ok: false, rejection: deferRejection('bad_char', badCharacterDetail, text, at) };
}

/** `at`: index of the bad character in the text as sent (before trimming). */
function badCharacterDetail(text: string, at: number): string {
  // The trimmed-off characters are spaces, so the code point reads the same in the untrimmed text.
  const codePoint = text.codePointAt(at) ?? 0;
  const character = String.fromCodePoint(codePoint);
  const hex = codePoint.toString(16).toUpperCase().padStart(4, '0');
  const position = countCodePoints(text, 0, at) + 1;
  let what: string;
  if (CONTROL.test(character)) what = 'a control character';
  else if (FORMAT.test(character)) what = 'an invisible formatting character';
  else if (LINE_SEPARATOR.test(character)) what = 'a line separator';
  else if (PARAGRAPH_SEPARATOR.test(character)) what = 'a paragraph separator';
  else what = 'an unpaired surrogate (broken text encoding)';
  return `the message contains U+${hex}, ${what}, at character ${position}: only visible characters and spaces are allowed`;
}

/** Viewer text cut short, so a detail stays one readable line. */
function shorten(text: string): string {
  return text.length > QUOTE_LIMIT ? `${text.slice(0, QUOTE_LIMIT)}…` : text;
}

/** Viewer text quoted and cut short for a detail. */
function quote(text: string): string {
  return `"${shorten(text)}"`;
}

/**
 * The known name an unknown one was obviously meant to be: the single closest by edit distance
 * (a swap of two neighbours counts as one edit), at most 2 edits and less than half the word.
 */
function closestName(name: string, known: readonly string[]): string | undefined {
  const limit = Math.min(2, Math.floor(name.length / 2));
  if (limit === 0 || name.length > MAX_SUGGESTION_LENGTH) return undefined;
  let best: string | undefined;
  let bestDistance = Infinity;
  let tie = false;
  for (const candidate of known) {
    // The distance is at least the difference in length: such candidates can neither win nor tie.
    if (Math.abs(candidate.length - name.length) > limit || candidate.length > MAX_SUGGESTION_LENGTH) continue;
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
      tie = false;
    } else if (distance === bestDistance) {
      tie = true;
    }
  }
  return bestDistance <= limit && !tie ? best : undefined;
}

// Three rows of the edit-distance table, reused: validate() is synchronous, so one set serves all calls.
const MAX_SUGGESTION_LENGTH = 64;
const rows = [0, 1, 2].map(() => new Uint8Array(MAX_SUGGESTION_LENGTH + 1));

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
function editDistance(a: string, b: string): number {
  const width = b.length + 1;
  let before = rows[0] as Uint8Array;
  let previous = rows[1] as Uint8Array;
  let current = rows[2] as Uint8Array;
  for (let column = 0; column < width; column++) previous[column] = column;
  for (let row = 1; row <= a.length; row++) {
    current[0] = row;
    const here = a.charCodeAt(row - 1);
    for (let column = 1; column < width; column++) {
      const there = b.charCodeAt(column - 1);
      let distance = (previous[column - 1] as number) + (here === there ? 0 : 1);
      const deletion = (previous[column] as number) + 1;
      const insertion = (current[column - 1] as number) + 1;
      if (deletion < distance) distance = deletion;
      if (insertion < distance) distance = insertion;
      if (row > 1 && column > 1 && here === b.charCodeAt(column - 2) && a.charCodeAt(row - 2) === there) {
        const swap = (before[column - 2] as number) + 1;
        if (swap < distance) distance = swap;
      }
      current[column] = distance;
    }
    const spare = before;
    before = previous;
    previous = current;
    current = spare;
  }
  return previous[width - 1] as number;
}
