import { createLabProxy, type LabApi } from '../../../shared/api';
import { labSocketUrl, SocketTransport, type ConnectionState } from './socket-transport';

export interface LabConnection {
  readonly lab: LabApi;
  readonly runtime: 'electron' | 'browser';
  state(): ConnectionState;
  onDidChangeState(listener: (state: ConnectionState) => void): () => void;
}

/** window.lab under Electron (the preload), else the WebSocket client of `cvlab serve`: the same LabApi. */
export function connectLab(): LabConnection {
  if (window.lab) {
    return { lab: window.lab, runtime: 'electron', state: () => 'open', onDidChangeState: () => () => undefined };
  }
  const transport = new SocketTransport(labSocketUrl(window.location));
  return {
    lab: createLabProxy(transport),
    runtime: 'browser',
    state: () => transport.state,
    onDidChangeState: (listener) => transport.onDidChangeState(listener),
  };
}
