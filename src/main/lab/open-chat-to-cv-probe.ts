import { BadInputError, ServiceUnreachableError } from '../../shared/exit-codes';
import type { RigConfig } from '../../shared/rig';
import { ChatToCvProbe } from './loopback/chat-to-cv-probe';
import { LoopbackSession } from './loopback/loopback-session';
import { ProbeError } from './loopback/probe-error';
import type { ProbeHello } from './loopback/probe-transport';

/** A probe opened for one command-line run's chat → CV, and how to let go of it. */
export interface OpenedChatToCvProbe {
  readonly probe: ChatToCvProbe;
  readonly hello: ProbeHello;
  readonly path: string;
  close(): Promise<void>;
}

/**
 * Opens the probe on `path` (a real one or `cvlab probe-emulator`'s) for a run that follows chat
 * to CV: the rig must mark its test variable. A probe that does not answer is exit 3, a rig
 * without a test variable exit 2.
 */
export async function openChatToCvProbe(rig: RigConfig, path: string): Promise<OpenedChatToCvProbe> {
  if (!rig.variables.some((variable) => variable.test)) {
    throw new BadInputError(`--serial: rig "${rig.name}" has no test variable for the probe to watch: mark one variable with "test": true`);
  }
  const session = new LoopbackSession({ rig, path, ...(rig.serial?.baud ? { baudRate: rig.serial.baud } : {}), autoReconnect: false });
  try {
    const hello = await session.connect();
    return { probe: new ChatToCvProbe(session, rig), hello, path: session.path, close: () => session.close() };
  } catch (error) {
    await session.close().catch(() => undefined);
    if (error instanceof ProbeError) throw new ServiceUnreachableError(`the loop-back probe on ${path}`, error.message);
    throw error;
  }
}
