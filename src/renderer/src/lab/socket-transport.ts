import {
  LAB_SOCKET_PATH,
  TOKEN_REFUSED_CLOSE_CODE,
  type LabEventName,
  type LabTransport,
  type WireReply,
  type WireRequest,
} from '../../../shared/api';

/** `refused`: the server turned the page's token down; retrying cannot help, the page must be reopened. */
export type ConnectionState = 'connecting' | 'open' | 'closed' | 'refused';

interface PendingCall {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/**
 * The LabApi over the `cvlab serve` WebSocket: calls carry an id and wait for their reply;
 * events are subscribed on the server only while someone here listens. Reconnects with a
 * growing pause and subscribes again, so a restarted server picks the console back up.
 */
export class SocketTransport implements LabTransport {
  private socket: WebSocket | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, PendingCall>();
  /** Calls made before the socket opened; sent as soon as it does. */
  private queued: WireRequest[] = [];
  private readonly listeners = new Map<LabEventName, Set<(payload: unknown) => void>>();
  private readonly stateListeners = new Set<(state: ConnectionState) => void>();
  private retryMs = 250;
  state: ConnectionState = 'connecting';

  constructor(private readonly url: string) {
    this.connect();
  }

  invoke(command: string, args: unknown[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject });
      const request: WireRequest = { type: 'call', id, command, args };
      if (this.state === 'open') this.send(request);
      else this.queued.push(request);
    });
  }

  listen(event: LabEventName, listener: (payload: unknown) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
      if (this.state === 'open') this.send({ type: 'subscribe', event });
    }
    set.add(listener);
    return () => {
      const current = this.listeners.get(event);
      if (!current?.delete(listener) || current.size > 0) return;
      this.listeners.delete(event);
      if (this.state === 'open') this.send({ type: 'unsubscribe', event });
    };
  }

  onDidChangeState(listener: (state: ConnectionState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  private send(request: WireRequest): void {
    this.socket?.send(JSON.stringify(request));
  }

  private setState(state: ConnectionState): void {
    this.state = state;
    for (const listener of this.stateListeners) listener(state);
  }

  private connect(): void {
    this.setState('connecting');
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.onopen = () => {
      this.retryMs = 250;
      this.setState('open');
      for (const event of this.listeners.keys()) this.send({ type: 'subscribe', event });
      const queued = this.queued;
      this.queued = [];
      for (const request of queued) this.send(request);
    };
    socket.onmessage = (message: MessageEvent<string>) => this.receive(message.data);
    socket.onclose = (event: CloseEvent) => {
      if (event.code === TOKEN_REFUSED_CLOSE_CODE) {
        for (const call of this.pending.values())
          call.reject(new Error("cvlab serve refused this page's token: open the URL it printed."));
        this.pending.clear();
        this.queued = [];
        this.setState('refused');
        return;
      }
      // Calls already sent may or may not have run: say so rather than guess. Queued ones wait for the next socket.
      const waiting = new Set(this.queued.map((request) => (request.type === 'call' ? request.id : -1)));
      for (const [id, call] of this.pending) {
        if (waiting.has(id)) continue;
        call.reject(
          new Error('The connection to cvlab serve closed before the reply came; check the result once it reconnects.'),
        );
        this.pending.delete(id);
      }
      this.setState('closed');
      setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 5000);
    };
  }

  private receive(text: string): void {
    let reply: WireReply;
    try {
      reply = JSON.parse(text) as WireReply;
    } catch {
      return;
    }
    if (reply.type === 'event') {
      for (const listener of this.listeners.get(reply.event) ?? []) listener(reply.payload);
      return;
    }
    const call = reply.id === null ? undefined : this.pending.get(reply.id);
    if (!call || reply.id === null) return;
    this.pending.delete(reply.id);
    if (reply.type === 'result') call.resolve(reply.value);
    else call.reject(new Error(reply.message));
  }
}

/** The socket address of the server that served this page, with the token from the page's URL. */
export function labSocketUrl(location: Location): string {
  const token = new URLSearchParams(location.hash.replace(/^#/, '')).get('token') ?? '';
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${LAB_SOCKET_PATH}?token=${encodeURIComponent(token)}`;
}
