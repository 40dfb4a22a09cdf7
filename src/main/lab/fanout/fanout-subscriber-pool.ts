import * as hdr from 'hdr-histogram-js';
import { WebSocket } from 'ws';
import { fanoutClock, type FanoutMessage } from '../common/fanout-message';

/** What one simulated subscriber saw. */
export interface SubscriberTally {
  received: number;
  /** A version lower than or equal to one already seen for the same variable. */
  outOfOrder: number;
  /** A version more than one past the last seen for the variable (a skipped change). */
  gaps: number;
  readonly lastVersion: Map<string, number>;
}

export interface SubscriberPoolOptions {
  /** Connections opened at once while connecting (the rest wait). Default 100. */
  readonly concurrency?: number;
}

/** Builds the HDR histogram the fan-out stage records into: ns, 3 significant digits. */
export function createLatencyHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000_000, numberOfSignificantValueDigits: 3 });
}

/**
 * Simulated stream overlays for the `websocket-scaling` scenario and the tests: N WebSocket
 * clients on loopback, each recording fan-out latency (accepted → received) into one shared
 * HDR histogram and checking that changes arrive in order.
 */
export class FanoutSubscriberPool {
  readonly tallies: SubscriberTally[] = [];
  /** Latency of every subscriber that is being measured, ns. */
  histogram = createLatencyHistogram();
  private readonly sockets: WebSocket[] = [];
  private readonly measured: boolean[] = [];

  private constructor() {}

  /** Connects `count` subscribers to `url`; rejects with the server's reason when one is refused. */
  static async connect(url: string, count: number, options: SubscriberPoolOptions = {}): Promise<FanoutSubscriberPool> {
    const pool = new FanoutSubscriberPool();
    const concurrency = options.concurrency ?? 100;
    try {
      for (let start = 0; start < count; start += concurrency) {
        const batch = Array.from({ length: Math.min(concurrency, count - start) }, () => pool.open(url));
        await Promise.all(batch);
      }
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  get size(): number {
    return this.sockets.length;
  }

  /** Stops reading on subscriber `index` (its TCP window fills up), and leaves it out of the histogram. */
  stall(index: number): void {
    this.sockets[index]?.pause();
    this.measured[index] = false;
  }

  /** Starts a fresh histogram (for the next phase of a measurement). */
  resetHistogram(): void {
    this.histogram = createLatencyHistogram();
  }

  /** Resolves once every measured subscriber has received at least `count` changes (or rejects after `timeoutMs`). */
  async waitForReceived(count: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const behind = this.tallies.filter((tally, index) => this.measured[index] && tally.received < count).length;
      if (behind === 0) return;
      if (Date.now() > deadline) throw new Error(`${behind} of ${this.size} subscribers had not received ${count} changes after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Closes every client (stalled ones are cut, not waited for). */
  async close(): Promise<void> {
    await Promise.all(
      this.sockets.map(
        (socket) =>
          new Promise<void>((resolve) => {
            if (socket.readyState === WebSocket.CLOSED) return resolve();
            socket.once('close', () => resolve());
            socket.terminate();
          }),
      ),
    );
  }

  private open(url: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { perMessageDeflate: false });
      const index = this.sockets.length;
      const tally: SubscriberTally = { received: 0, outOfOrder: 0, gaps: 0, lastVersion: new Map() };
      this.sockets.push(socket);
      this.tallies.push(tally);
      this.measured.push(true);
      socket.once('open', () => resolve());
      socket.once('unexpected-response', (_request, response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => reject(new Error(`fan-out refused subscriber ${index + 1}: HTTP ${response.statusCode}: ${body.trim()}`)));
      });
      socket.once('error', reject);
      socket.on('message', (data: Buffer) => {
        const receivedAt = fanoutClock();
        const message = JSON.parse(data.toString()) as FanoutMessage;
        tally.received++;
        const last = tally.lastVersion.get(message.variable);
        if (last !== undefined && message.version <= last) tally.outOfOrder++;
        else {
          if (last !== undefined && message.version > last + 1) tally.gaps++;
          tally.lastVersion.set(message.variable, message.version);
        }
        if (this.measured[index]) this.histogram.recordValue(Math.max(1, Math.round((receivedAt - message.acceptedAtMs) * 1e6)));
      });
    });
  }
}
