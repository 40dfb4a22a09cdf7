import type { WebSocket } from 'ws';
import {
  dispatchCommand,
  isLabEvent,
  LAB_EVENTS,
  WireRequestSchema,
  type LabApi,
  type LabEventName,
  type Unsubscribe,
  type WireReply,
} from '../../../shared/api';
import { formatIssues } from '../../../shared/format-issues';

/** Bytes waiting in a socket past which lossy events (live frames) are dropped for that client. */
const LOSSY_BACKLOG_BYTES = 2 * 1024 * 1024;

/** What one bridge has sent, for the console benchmark and /metrics. */
export interface BridgeCounters {
  messages: number;
  bytes: number;
  /** Event messages sent, by event name (the live frames are `onDidRunFrames`). */
  events: Record<string, number>;
  droppedEvents: number;
}

/**
 * Serves the LabApi over one authenticated WebSocket: calls are parsed and dispatched with
 * the contract's schemas; events flow only while the client subscribes to them. A slow client
 * loses live frames rather than holding the engine back.
 */
export function attachSocketBridge(socket: WebSocket, lab: LabApi, counters: BridgeCounters): Unsubscribe {
  const subscriptions = new Map<LabEventName, Unsubscribe>();

  const send = (reply: WireReply): void => {
    if (socket.readyState !== socket.OPEN) return;
    const text = JSON.stringify(reply);
    counters.messages++;
    counters.bytes += Buffer.byteLength(text);
    socket.send(text);
  };

  const subscribe = (event: LabEventName): void => {
    if (subscriptions.has(event)) return;
    const lossy = 'lossy' in LAB_EVENTS[event] && LAB_EVENTS[event].lossy === true;
    const listen = lab[event] as (listener: (payload: unknown) => void) => Unsubscribe;
    subscriptions.set(
      event,
      listen((payload) => {
        if (lossy && socket.bufferedAmount > LOSSY_BACKLOG_BYTES) {
          counters.droppedEvents++;
          return;
        }
        counters.events[event] = (counters.events[event] ?? 0) + 1;
        send({ type: 'event', event, payload });
      }),
    );
  };

  // A bad frame gets an error reply and the connection stays: one buggy or hostile message
  // must not cut a console off its run. The reply carries the request's id when one can be read.
  const refuse = (request: unknown, message: string): void => {
    const id = typeof request === 'object' && request !== null ? (request as { id?: unknown }).id : undefined;
    send({ type: 'error', id: typeof id === 'number' && Number.isInteger(id) && id >= 0 ? id : null, message });
  };

  socket.on('message', (data, isBinary) => {
    if (isBinary) return refuse(undefined, 'Expected a JSON text frame; got a binary frame.');
    let request: unknown;
    try {
      request = JSON.parse(data.toString());
    } catch {
      return refuse(undefined, 'Expected a JSON message; the frame does not parse as JSON.');
    }
    const parsed = WireRequestSchema.safeParse(request);
    if (!parsed.success) {
      return refuse(request, `Bad request: ${formatIssues(parsed.error.issues).join('; ')}`.slice(0, 2000));
    }
    const message = parsed.data;
    if (message.type === 'call') {
      dispatchCommand(lab, message.command, message.args).then(
        (value) => send({ type: 'result', id: message.id, value }),
        (error: unknown) =>
          send({ type: 'error', id: message.id, message: error instanceof Error ? error.message : String(error) }),
      );
    } else if (!isLabEvent(message.event)) {
      refuse(request, `Unknown event ${JSON.stringify(message.event).slice(0, 200)}.`);
    } else if (message.type === 'subscribe') {
      subscribe(message.event);
    } else {
      subscriptions.get(message.event)?.();
      subscriptions.delete(message.event);
    }
  });

  const dispose = (): void => {
    for (const unsubscribe of subscriptions.values()) unsubscribe();
    subscriptions.clear();
  };
  socket.on('close', dispose);
  // A frame over the size limit or a broken socket: ws closes the connection itself (1009 and
  // the like); without a listener the 'error' event would take the whole server down.
  socket.on('error', () => undefined);
  return dispose;
}
