// Preload: exposes named functions only; never ipcRenderer itself.
import { contextBridge } from 'electron';

contextBridge.exposeInMainWorld('lab', {
  version: (): string => '0.1.0',
});
