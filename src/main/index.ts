// Electron main process: app lifecycle and one locked-down window. Everything else lives in
// src/main/lab, which runs the same without Electron (cvlab run / cvlab serve).
import { app, BrowserWindow, session, shell } from 'electron';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bindLabToIpc } from './ipc';
import { Lab } from './lab/lab';
import { contentSecurityPolicy } from './lab/server/content-security-policy';

const here = fileURLToPath(new URL('.', import.meta.url));

const rendererFile = join(here, '../renderer/index.html');
const devServerUrl = !app.isPackaged ? process.env['ELECTRON_RENDERER_URL'] : undefined;
// The page talks to the engine over IPC only: it may connect nowhere (the dev server's reload socket aside).
const CONTENT_SECURITY_POLICY = contentSecurityPolicy(devServerUrl ? [new URL(devServerUrl).origin.replace(/^http/, 'ws')] : []);

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

  // No navigation away from the console and no new windows; links open in the system browser.
  window.webContents.on('will-navigate', (event) => event.preventDefault());
  window.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });

  if (devServerUrl) void window.loadURL(devServerUrl);
  else void window.loadFile(rendererFile);
  return window;
}

app.on('web-contents-created', (_event, contents) => {
  contents.on('will-attach-webview', (event) => event.preventDefault());
});

void app.whenReady().then(async () => {
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] },
    });
  });
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
