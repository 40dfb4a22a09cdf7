import type { ChatPipeline, Disposable } from '../pipeline/pipeline-types';
import { fanoutClock } from '../../common/fanout-message';
import type { FanoutServer } from './fanout-server';

/**
 * Makes fan-out a stage of the pipeline: every accepted change (local, and with `remote` also
 * those of other instances) is pushed to the WebSocket subscribers the moment it is accepted.
 */
export function attachFanout(pipeline: ChatPipeline, server: FanoutServer, options: { remote?: boolean } = {}): Disposable {
  return pipeline.onDidChangeState((change) => {
    if (change.origin === 'remote' && !options.remote) return;
    server.publish(change, fanoutClock());
  });
}
