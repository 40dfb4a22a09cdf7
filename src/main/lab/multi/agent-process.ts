// Entry of a local instance of a multi-instance run when cvlab runs from source (tsx): the
// built CLI starts `cvlab agent` instead. Arguments: --redis <url> --agent-id <id> --run-id <id>.
import { parseArgs } from 'node:util';
import { InstanceAgent } from './instance-agent';

const { values } = parseArgs({
  options: { redis: { type: 'string' }, 'agent-id': { type: 'string' }, 'run-id': { type: 'string' } },
});
if (!values.redis) {
  console.error('agent-process: expected --redis <url>');
  process.exit(2);
}
const agent = await InstanceAgent.start({
  redisUrl: values.redis,
  ...(values['agent-id'] ? { agentId: values['agent-id'] } : {}),
  ...(values['run-id'] ? { runId: values['run-id'] } : {}),
  once: true,
  log: (line) => console.error(line),
});
process.once('SIGTERM', () => void agent.close());
await agent.done();
process.exit(0);
