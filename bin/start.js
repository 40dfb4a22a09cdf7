#!/usr/bin/env node
// `npm start`: the Electron console when Electron's binary is there; otherwise the same console
// in a browser through `cvlab serve`, said in one line. Where neither works: one line, and
// `cvlab serve`'s exit code (3 when its port is taken: `npm start -- --port 0` picks a free one).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

/** The Electron binary's path, or why there is none. */
function findElectron() {
  try {
    const binary = require('electron');
    if (typeof binary === 'string' && existsSync(binary)) return { binary };
    return { reason: 'the electron package is installed but its binary is missing' };
  } catch (error) {
    return {
      reason: /Cannot find module/.test(String(error))
        ? 'the electron package is not installed'
        : 'its download did not happen during npm install',
    };
  }
}

function fail(line, code = 1) {
  console.error(line);
  process.exit(code);
}

/** Builds once when out/ is missing (npm install normally does it through `prepare`). */
function ensureBuilt() {
  const needed = ['out/main/index.js', 'out/main/cli.js', 'out/preload/index.cjs', 'out/renderer/index.html'];
  if (needed.every((file) => existsSync(`${root}/${file}`))) return;
  const build = spawnSync(process.execPath, [require.resolve('electron-vite/bin/electron-vite.js'), 'build'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  if (build.status !== 0)
    fail(`cvlab could not be built (npm run build failed): ${(build.stderr || '').trim().split('\n').at(-1) ?? ''}`);
}

/** Opens `url` in the desktop's browser when there is a desktop; never fails the start. */
function openBrowser(url) {
  const hasDisplay = process.platform !== 'linux' || Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
  if (!hasDisplay) return;
  const [command, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '', url]]
        : ['xdg-open', [url]];
  const child = spawn(command, args, { stdio: 'ignore', detached: true });
  child.on('error', () => undefined);
  child.unref();
}

/**
 * npm install does not run Electron's download script (it would fail on an offline bench), so
 * the first start fetches the binary when the package is there without it.
 */
function fetchElectronBinary() {
  let installer;
  try {
    installer = require.resolve('electron/install.js');
  } catch {
    return;
  }
  spawnSync(process.execPath, [installer], { cwd: root, stdio: 'ignore', timeout: 300_000 });
}

ensureBuilt();
let electron = findElectron();
if (!electron.binary && electron.reason !== 'the electron package is not installed' && !process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) {
  fetchElectronBinary();
  electron = findElectron();
  if (!electron.binary) electron = { reason: 'it could not be downloaded: is this machine offline?' };
}
if (electron.binary) {
  // .npmrc's node-options (the install-time download switch) is no business of the app itself.
  const env = { ...process.env };
  if (env.NODE_OPTIONS?.includes('ELECTRON_SKIP_BINARY_DOWNLOAD')) delete env.NODE_OPTIONS;
  const child = spawn(electron.binary, ['.', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit', env });
  child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
} else {
  // `npm start -- --port 0` (or CVLAB_PORT=0): the port of the console in the browser.
  const { values } = parseArgs({ args: process.argv.slice(2), options: { port: { type: 'string' } }, strict: false });
  const port = typeof values.port === 'string' ? values.port : (process.env.CVLAB_PORT ?? '5170');
  const serve = spawn(process.execPath, [`${root}/out/main/cli.js`, 'serve', '--port', port], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let said = false;
  let errors = '';
  serve.stdout.on('data', (chunk) => {
    const text = chunk.toString();
    const match = /cvlab console: (\S+)/.exec(text);
    if (match && !said) {
      said = true;
      console.log(
        `Electron's binary is not installed (${electron.reason}); serving the console in your browser instead: ${match[1]}`,
      );
      openBrowser(match[1]);
      return;
    }
    if (said) process.stdout.write(text);
  });
  serve.stderr.on('data', (chunk) => {
    errors += chunk.toString();
    if (said) process.stderr.write(chunk);
  });
  serve.on('error', (error) =>
    fail(`Electron's binary is not installed and cvlab serve could not start: ${error.message}`),
  );
  serve.on('exit', (code) => {
    if (!said)
      fail(
        `Electron's binary is not installed (${electron.reason}) and cvlab serve failed: ${errors.trim().split('\n').at(-1) ?? `exit ${code}`}`,
        code ?? 1,
      );
    process.exit(code ?? 0);
  });
  // Passed on, and this process waits for serve to stop (serve also stops when this one is gone).
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => serve.kill(signal));
  // npm (or the shell) that started this one killed without a word: stop the console with it.
  const parent = process.ppid;
  setInterval(() => process.ppid !== parent && serve.kill('SIGTERM'), 500).unref();
}
