import { describe, expect, it } from 'vitest';
import { ClockModel } from '../../src/main/lab/loopback/clock-model';
import { latencyStats } from '../../src/main/lab/loopback/latency-stats';
import { EdgeMatcher } from '../../src/main/lab/loopback/edge-matcher';

/** A seeded generator, so a failure reproduces. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 4_294_967_296;
  };
}

interface Scenario {
  offsetS: number;
  driftPpm: number;
  jitterUs: number;
}

/** Simulates PINGs every 10 ms over `seconds`: each leg has 150 µs base + uniform jitter. */
function exchange(model: ClockModel, scenario: Scenario, seconds: number, seed: number, hostStartUs = 5e8): (hostUs: number) => number {
  const next = random(seed);
  const probe = (hostUs: number): number => Math.floor(hostUs * (1 + scenario.driftPpm * 1e-6) + scenario.offsetS * 1e6);
  for (let t = 0; t < seconds * 1e6; t += 10_000) {
    const send = hostStartUs + t;
    const stamped = send + 150 + next() * scenario.jitterUs;
    const receive = stamped + 150 + next() * scenario.jitterUs;
    model.add({ hostSendUs: send, hostReceiveUs: receive, probeUs: probe(stamped) });
  }
  return probe;
}

describe('clock model', () => {
  const scenarios: Scenario[] = [
    { offsetS: 0, driftPpm: 0, jitterUs: 1000 },
    { offsetS: 3600, driftPpm: 100, jitterUs: 1000 },
    { offsetS: 3600, driftPpm: -100, jitterUs: 1000 },
    { offsetS: 1, driftPpm: 37, jitterUs: 50 },
  ];
  it.each(scenarios)('recovers offset $offsetS s and drift $driftPpm ppm with $jitterUs µs serial jitter', (scenario) => {
    const model = new ClockModel();
    const probe = exchange(model, scenario, 3, 1);
    const fit = model.fit();
    expect(fit).not.toBeNull();
    expect(Math.abs((fit?.driftPpm ?? 0) - scenario.driftPpm)).toBeLessThan(20);
    // Map probe stamps back inside the fitted span: the error must stay within tens of µs.
    for (const hostUs of [5e8 + 200_000, 5e8 + 1_500_000, 5e8 + 2_900_000]) {
      const mapped = model.toHost(probe(hostUs), 60e6);
      expect(mapped).not.toBeNull();
      expect(Math.abs((mapped as number) - hostUs)).toBeLessThan(50);
    }
  });

  it('reports the offset in absolute terms and a residual', () => {
    const model = new ClockModel({ hostEpochUs: 0 });
    exchange(model, { offsetS: 10, driftPpm: 0, jitterUs: 200 }, 1, 2);
    const fit = model.fit();
    expect(Math.abs((fit?.offsetUs ?? 0) - 10e6)).toBeLessThan(50);
    expect(fit?.residualUs).toBeGreaterThan(0);
    expect(fit?.kept).toBeLessThan(fit?.samples ?? 0);
  });

  it('assumes no drift before the samples span long enough to tell', () => {
    const model = new ClockModel();
    exchange(model, { offsetS: 5, driftPpm: 80, jitterUs: 100 }, 0.1, 3);
    expect(model.fit()?.driftPpm).toBe(0);
  });

  it('has no fit before any sample and ignores a negative round trip', () => {
    const model = new ClockModel();
    expect(model.fit()).toBeNull();
    model.add({ hostSendUs: 10, hostReceiveUs: 5, probeUs: 1 });
    expect(model.sampleCount).toBe(0);
    expect(model.toHost(1)).toBeNull();
  });
});

describe('edge matcher', () => {
  it('matches in order, counts skipped sends as missed and early edges as spurious', () => {
    const matcher = new EdgeMatcher(100_000, 0);
    matcher.addSend({ index: 0, direction: 'rise', sentUs: 0 });
    matcher.addSend({ index: 1, direction: 'fall', sentUs: 10_000 });
    matcher.addSend({ index: 2, direction: 'rise', sentUs: 20_000 });
    expect(matcher.matchEdge('fall', 1_000)).toEqual({ kind: 'spurious' }); // before its fall was sent
    expect(matcher.matchEdge('rise', 2_000)).toMatchObject({ kind: 'matched', send: { index: 0 }, missed: [] });
    const verdict = matcher.matchEdge('rise', 22_000); // the fall never showed up
    expect(verdict).toMatchObject({ kind: 'matched', send: { index: 2 } });
    if (verdict.kind === 'matched') expect(verdict.missed.map((send) => send.index)).toEqual([1]);
    expect(matcher.counts).toEqual({ matched: 2, misses: 1, spurious: 1 });
  });

  it('times out sends with no edge', () => {
    const matcher = new EdgeMatcher(50_000);
    matcher.addSend({ index: 0, direction: 'rise', sentUs: 0 });
    matcher.addSend({ index: 1, direction: 'fall', sentUs: 40_000 });
    expect(matcher.expire(60_000).map((send) => send.index)).toEqual([0]);
    expect(matcher.waiting).toBe(1);
    expect(matcher.expire(0, true)).toHaveLength(1);
    expect(matcher.counts.misses).toBe(2);
  });
});

describe('latency stats', () => {
  it('gives nearest-rank percentiles and p99 − p50 jitter', () => {
    const values = Array.from({ length: 100 }, (_, index) => index + 1);
    const stats = latencyStats(values);
    expect(stats).toMatchObject({ count: 100, minUs: 1, p50Us: 50, p95Us: 95, p99Us: 99, maxUs: 100, jitterUs: 49 });
    expect(latencyStats([])).toBeNull();
  });
});

describe('clock model on a UART link (protocol 1.1)', () => {
  /** PINGs every 10 ms over a 115200-baud UART: 9-byte PING, 36-byte PONG, and a busy probe. */
  function uartExchange(model: ClockModel, useWireAndTurnaround: boolean): (hostUs: number) => number {
    const next = random(7);
    const byteUs = 10e6 / 115200;
    const probe = (hostUs: number): number => Math.floor(hostUs * (1 + 100e-6) + 3600e6);
    for (let t = 0; t < 3e6; t += 10_000) {
      const send = 5e8 + t;
      const rx = send + 9 * byteUs + next() * 1000; // USB jitter, then the PING on the wire
      const tx = rx + next() * 500; // the probe takes up to 0.5 ms to reply
      const receive = tx + 36 * byteUs + next() * 1000;
      model.add(
        useWireAndTurnaround
          ? { hostSendUs: send, hostReceiveUs: receive, probeUs: probe(rx), probeTxUs: probe(tx), pingWireUs: 9 * byteUs, pongWireUs: 36 * byteUs }
          : { hostSendUs: send, hostReceiveUs: receive, probeUs: probe(rx) },
      );
    }
    return probe;
  }

  it('takes each line’s wire time and the probe’s turnaround out of the exchange', () => {
    const model = new ClockModel();
    const probe = uartExchange(model, true);
    const fit = model.fit();
    expect(fit?.linkFit).toBe('fits');
    expect(fit?.medianTurnaroundUs).toBeGreaterThan(100);
    for (const hostUs of [5e8 + 500_000, 5e8 + 2_500_000]) {
      expect(Math.abs((model.toHost(probe(hostUs), 60e6) as number) - hostUs)).toBeLessThan(50);
    }
  });

  it('is off by about half the legs’ difference without them (what protocol 1.1 fixes)', () => {
    const model = new ClockModel();
    const probe = uartExchange(model, false);
    const error = Math.abs((model.toHost(probe(5e8 + 1_500_000), 60e6) as number) - (5e8 + 1_500_000));
    expect(error).toBeGreaterThan(500);
  });

  it('names a link whose quickest reply is far slower than its wire (a latency timer holding replies)', () => {
    const model = new ClockModel();
    for (let t = 0; t < 1e6; t += 10_000) {
      model.add({ hostSendUs: t, hostReceiveUs: t + 16_000 + 3900, probeUs: t + 800, pingWireUs: 780, pongWireUs: 3100 });
    }
    expect(model.fit()?.linkFit).toBe('slow-link');
  });

  it('names a link faster than the UART it was said to be', () => {
    const model = new ClockModel();
    for (let t = 0; t < 1e6; t += 10_000) {
      model.add({ hostSendUs: t, hostReceiveUs: t + 300, probeUs: t + 150, pingWireUs: 780, pongWireUs: 3100 });
    }
    expect(model.fit()?.linkFit).toBe('faster-than-wire');
  });
});
