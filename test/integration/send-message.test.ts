// `cvlab send`'s one message goes through the session to cvlab's pipeline on an engine thread,
// the code path of every run, and comes back as plain data the command line prints.
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { RigSchema } from '../../src/shared/rig';
import { sendMessage } from '../../src/main/lab/session/send-message';

const demo = JSON.parse(readFileSync(new URL('../../resources/rigs/demo.json', import.meta.url), 'utf8')) as Record<string, unknown>;

describe('sending one message through the session', () => {
  it('runs it on an engine thread: the datagram reaches the converter, the outcome and its packet come back', async () => {
    const converter = createSocket('udp4');
    const datagrams: Buffer[] = [];
    converter.on('message', (datagram) => datagrams.push(datagram));
    await new Promise<void>((resolve) => converter.bind(0, '127.0.0.1', () => resolve()));
    try {
      const rig = RigSchema.parse({ ...demo, name: `send-test-${process.pid}`, osc: { host: '127.0.0.1', port: converter.address().port }, redisUrl: undefined });
      const accepted = await sendMessage({ rig, text: 'hue=0.4', user: 'bench-viewer' });
      expect(accepted.threadId).not.toBe(threadId);
      expect(accepted.outcome.status).toBe('accepted');
      if (accepted.outcome.status !== 'accepted') throw new Error('expected an accepted outcome');
      expect(accepted.outcome.packet.messages[0]?.address).toMatch(/hue/);
      await expect.poll(() => datagrams.length).toBe(1);
      expect(datagrams[0]?.length).toBe(accepted.outcome.packet.bytes);

      const rejected = await sendMessage({ rig, text: 'nosuchvariable=1', user: 'bench-viewer' });
      expect(rejected.outcome.status).toBe('rejected');
      if (rejected.outcome.status !== 'rejected') throw new Error('expected a rejected outcome');
      expect(rejected.outcome.rejection.code).toBe('unknown_variable');
      expect(rejected.outcome.rejection.detail.length).toBeGreaterThan(0);
      expect(datagrams).toHaveLength(1);
    } finally {
      converter.close();
    }
  }, 60_000);
});
