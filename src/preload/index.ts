// Preload: exposes window.lab, one named function per command and event of the contract.
// ipcRenderer itself never reaches the page; listener wrappers drop the IPC event object
// and return an unsubscribe function.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { createLabProxy, labChannel } from '../shared/api';

// Electron wraps remote errors as "Error invoking remote method 'lab:x': Error: …"; keep the plain words.
const REMOTE_ERROR_PREFIX = /^Error invoking remote method '[^']+': (?:\w*Error: )?/;

const lab = createLabProxy({
  async invoke(command, args) {
    try {
      return await ipcRenderer.invoke(labChannel(command), ...args);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(message.replace(REMOTE_ERROR_PREFIX, ''), { cause: error });
    }
  },
  listen(event, listener) {
    const wrapper = (_event: IpcRendererEvent, payload: unknown): void => listener(payload);
    ipcRenderer.on(labChannel(event), wrapper);
    return () => {
      ipcRenderer.removeListener(labChannel(event), wrapper);
    };
  },
});

contextBridge.exposeInMainWorld('lab', lab);
