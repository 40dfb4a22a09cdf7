// Binds the LabApi to Electron IPC. Every channel goes through the one handle() helper below:
// it checks that the call comes from the console's own page and parses every argument with
// the command's zod schema. Raw ipcMain.handle appears nowhere else.
import { BrowserWindow, ipcMain, type IpcMainInvokeEvent } from 'electron';
import { pathToFileURL } from 'node:url';
import {
  dispatchCommand,
  labChannel,
  LAB_COMMAND_NAMES,
  LAB_EVENT_NAMES,
  type LabApi,
  type Unsubscribe,
} from '../shared/api';

export interface IpcBindingOptions {
  /** The built renderer's index.html: file:// calls must come from exactly this page. */
  rendererFile: string;
  /** electron-vite's dev server (unpackaged runs only): calls from its origin are the console too. */
  devServerUrl?: string;
}

/** Binds every command and event of the contract to IPC; returns a function that unbinds them. */
export function bindLabToIpc(lab: LabApi, options: IpcBindingOptions): Unsubscribe {
  const rendererUrl = pathToFileURL(options.rendererFile);
  const devOrigin = options.devServerUrl ? new URL(options.devServerUrl).origin : undefined;

  const isTrustedSender = (event: IpcMainInvokeEvent): boolean => {
    const frameUrl = event.senderFrame?.url;
    if (!frameUrl) return false;
    let url: URL;
    try {
      url = new URL(frameUrl);
    } catch {
      return false;
    }
    if (url.protocol === 'file:') return url.pathname === rendererUrl.pathname;
    return devOrigin !== undefined && url.origin === devOrigin;
  };

  /** The one place IPC calls enter the engine. */
  const handle = (channel: string, serve: (args: unknown[]) => Promise<unknown>): void => {
    ipcMain.handle(channel, async (event, ...args: unknown[]) => {
      if (!isTrustedSender(event)) {
        throw new Error(
          `Refused ${channel}: the call came from ${event.senderFrame?.url ?? 'an unknown frame'}, not the cvlab console.`,
        );
      }
      return serve(args);
    });
  };

  for (const name of LAB_COMMAND_NAMES) {
    handle(labChannel(name), (args) => dispatchCommand(lab, name, args));
  }

  // Events go to every console window; the engine already batches frames to ≤ 20 Hz.
  const subscriptions = LAB_EVENT_NAMES.map((name) =>
    (lab[name] as (listener: (payload: unknown) => void) => Unsubscribe)((payload) => {
      for (const window of BrowserWindow.getAllWindows()) {
        if (!window.isDestroyed()) window.webContents.send(labChannel(name), payload);
      }
    }),
  );

  return () => {
    for (const name of LAB_COMMAND_NAMES) ipcMain.removeHandler(labChannel(name));
    for (const unsubscribe of subscriptions) unsubscribe();
  };
}
