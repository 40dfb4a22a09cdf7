import type { LabApi } from '../shared/api';

declare global {
  interface Window {
    /** Present under Electron (the preload); absent in a browser, where the WebSocket client stands in. */
    readonly lab?: LabApi;
  }
}
