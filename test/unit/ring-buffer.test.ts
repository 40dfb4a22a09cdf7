import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

// The ring buffer is renderer code (tsconfig.web.json); tsconfig.node.json, which checks tests,
// does not list renderer files, so the module is loaded by path and typed by its shape here.
interface RingBufferShape {
  readonly capacity: number;
  readonly length: number;
  push(value: number): void;
  view(): Float64Array;
  last(): number;
  clear(): void;
}
const modulePath = '../../src/renderer/src/scope/ring-buffer';
const { RingBuffer } = (await import(/* @vite-ignore */ modulePath)) as {
  RingBuffer: new (capacity: number) => RingBufferShape;
};

describe('RingBuffer', () => {
  it('hands out what was pushed, oldest first, before it is full', () => {
    const ring = new RingBuffer(4);
    ring.push(1);
    ring.push(2);
    expect([...ring.view()]).toEqual([1, 2]);
    expect(ring.last()).toBe(2);
  });

  it('keeps only the last `capacity` values once full, still contiguous', () => {
    const ring = new RingBuffer(3);
    for (const value of [1, 2, 3, 4, 5]) ring.push(value);
    expect([...ring.view()]).toEqual([3, 4, 5]);
    expect(ring.length).toBe(3);
    expect(ring.last()).toBe(5);
  });

  it('is empty after clear and reports NaN as the last value', () => {
    const ring = new RingBuffer(2);
    ring.push(7);
    ring.clear();
    expect(ring.view().length).toBe(0);
    expect(ring.last()).toBeNaN();
  });

  it('matches the tail of a plain array for any sequence of pushes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.double({ noNaN: true }), { maxLength: 300 }),
        (capacity, values) => {
          const ring = new RingBuffer(capacity);
          for (const value of values) ring.push(value);
          expect([...ring.view()]).toEqual(values.slice(-capacity));
        },
      ),
    );
  });

  it('refuses a capacity that is not a whole number above 0', () => {
    expect(() => new RingBuffer(0)).toThrow(/capacity/);
    expect(() => new RingBuffer(2.5)).toThrow(/capacity/);
  });
});
