// Electron main process: app lifecycle and one locked-down window. Everything else lives in
// src/main/lab, which runs the same without Electron (cvlab run / cvlab serve).
import { app, BrowserWindow, session } from 'electron';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bindLabToIpc } from './ipc';
import { Lab } from './lab/lab';

const here = fileURLToPath(new URL('.', import.meta.url));

const rendererFile = join(here, '../renderer/index.html');
const devServerUrl = !app.isPackaged ? process.env['ELECTRON_RENDERER_URL'] : undefined;

function createWindow(): BrowserWindow {
  const window = new BrowserWindow({
    width: 1440,
    height: 900,
    backgroundColor: '#0b0d10',
    title: 'cvlab',
    show: false,
    webPreferences: {
      preload: join(here, '../preload/index.cjs'),
      contextIsolation: true,
      // Middle-click opens no new window (Electronegativity AUXCLICK_JS_CHECK).
      disableBlinkFeatures: 'Auxclick',
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  window.once('ready-to-show', () => window.show());

  // No navigation away from the console and no new windows: the console links nowhere.
  window.webContents.on('will-navigate', (event) => event.preventDefault());
  window.webContents.on('will-redirect', (event) => event.preventDefault());
  window.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));

  if (devServerUrl) void window.loadURL(devServerUrl);
  else void window.loadFile(rendererFile);
  return window;
}

app.on('web-contents-created', (_event, contents) => {
  contents.on('will-attach-webview', (event) => event.preventDefault());
});

void app.whenReady().then(async () => {
  // The dev server needs its reload socket; the built console gets the strict policy on every response.
  // The page talks to the engine over IPC only, so it may connect nowhere. Written out literally so
  // Electronegativity can read it; a unit test keeps it equal to contentSecurityPolicy().
  if (!devServerUrl) {
    session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
      callback({
        responseHeaders: {
          ...details.responseHeaders,
          'Content-Security-Policy': [
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'none'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'",
          ],
        },
      });
    });
  }
  // The console asks for no device permissions (serial goes through the engine, not the page).
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  const lab = new Lab({ host: 'electron', version: app.getVersion() });
  bindLabToIpc(lab, { rendererFile, ...(devServerUrl ? { devServerUrl } : {}) });
  app.once('will-quit', () => void lab.dispose());
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
