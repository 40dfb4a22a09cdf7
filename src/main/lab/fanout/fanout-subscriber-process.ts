// A separate process holding simulated subscribers, so their reading does not share an event
// loop with the fan-out being measured. Driven over the IPC channel by RemoteSubscriberPool.
import { encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import { FanoutSubscriberPool } from './fanout-subscriber-pool';

interface Command {
  readonly type: 'connect' | 'reset' | 'report' | 'wait' | 'close';
  readonly url?: string;
  readonly count?: number;
  readonly stalled?: number;
  readonly received?: number;
}

let pool: FanoutSubscriberPool | undefined;
let stalledPool: FanoutSubscriberPool | undefined;
const reply = (message: Record<string, unknown>): void => void process.send?.(message);

process.on('message', (command: Command) => {
  void (async () => {
    try {
      switch (command.type) {
        case 'connect':
          if ((command.stalled ?? 0) > 0) {
            stalledPool = await FanoutSubscriberPool.connect(command.url ?? '', command.stalled ?? 0);
            for (let index = 0; index < stalledPool.size; index++) stalledPool.stall(index);
          }
          pool = await FanoutSubscriberPool.connect(command.url ?? '', command.count ?? 0);
          return reply({ type: 'connected' });
        case 'reset':
          pool?.resetHistogram();
          return reply({ type: 'reset' });
        case 'wait':
          await pool?.waitForReceived(command.received ?? 0, 20_000);
          return reply({ type: 'waited' });
        case 'report': {
          const tallies = pool?.tallies ?? [];
          return reply({
            type: 'report',
            histogram: pool && pool.histogram.totalCount > 0 ? encodeIntoCompressedBase64(pool.histogram) : undefined,
            received: tallies.map((tally) => tally.received),
            gaps: tallies.filter((tally) => tally.gaps > 0).length,
            outOfOrder: tallies.filter((tally) => tally.outOfOrder > 0).length,
          });
        }
        case 'close':
          await Promise.all([pool?.close(), stalledPool?.close()]);
          reply({ type: 'closed' });
          return process.exit(0);
      }
    } catch (error) {
      reply({ type: 'error', error: error instanceof Error ? error.message : String(error) });
    }
  })();
});
// The run that drives it is gone (it ended, or its process died): nothing is left to serve.
process.on('disconnect', () => process.exit(0));
reply({ type: 'ready' });
