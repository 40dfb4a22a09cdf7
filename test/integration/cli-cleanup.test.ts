import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findUdpListener } from '../../src/main/lab/common/find-udp-listener';
import { answersTcp } from '../setup/global-services';
import { CVLAB_CLI } from '../setup/cvlab-run';
import { freePort } from '../setup/services';
import { waitFor } from '../setup/wait-for';

// Every long-running command leaves nothing behind however it ends: the processes it started
// (socat, the bot), the ports it listened on and the pseudo-terminal links are listed while it
// runs and looked for again after it has gone.

let folder: string;
let rigPath: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'cvlab-cleanup-'));
  const demo = JSON.parse(await readFile('resources/rigs/demo.json', 'utf8')) as Record<string, unknown>;
  rigPath = join(folder, 'rig.json');
  await writeFile(rigPath, JSON.stringify({ ...demo, osc: { host: '127.0.0.1', port: await freePort(), tapPort: await freePort() } }));
});
afterAll(() => rm(folder, { recursive: true, force: true }));

/** Every process whose chain of parents leads to `root`, read from /proc. */
async function descendants(root: number): Promise<{ pid: number; command: string }[]> {
  const parents = new Map<number, { parent: number; command: string }>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      // "pid (command) state ppid …": the command may hold spaces and parentheses.
      const close = stat.lastIndexOf(')');
      const parent = Number(stat.slice(close + 2).split(' ')[1]);
      parents.set(Number(entry), { parent, command: stat.slice(stat.indexOf('(') + 1, close) });
    } catch {
      // gone while listing
    }
  }
  const found: { pid: number; command: string }[] = [];
  const walk = (pid: number): void => {
    for (const [child, { parent, command }] of parents) {
      if (parent !== pid) continue;
      found.push({ pid: child, command });
      walk(child);
    }
  };
  walk(root);
  return found;
}

/**
 * Still holding anything. A zombie whose threads have all ended holds nothing (it waits for a
 * parent to reap it); one whose main thread ended first still has its other threads, and its
 * sockets and files, until they end too.
 */
function alive(pid: number): boolean {
  try {
    if (!/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))) return true;
    return readdirSync(`/proc/${pid}/task`).length > 1;
  } catch {
    return false;
  }
}

interface Started {
  readonly child: ChildProcess;
  /** The cvlab process (the child itself, or the grandchild when started through a parent shell). */
  readonly cvlabPid: number;
  output: string;
  readonly exited: Promise<number | null>;
}

/** Starts `cvlab <args>`, directly or as the child of a shell that can be killed on its own. */
function start(args: string[], options: { throughParent?: boolean } = {}): Started {
  const command = [process.execPath, CVLAB_CLI, ...args];
  const child = options.throughParent
    ? spawn('/bin/sh', ['-c', `${command.map((word) => `'${word.replaceAll("'", `'\\''`)}'`).join(' ')} & echo "cvlab $!"; wait`], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(command[0] as string, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const started: Started = {
    child,
    cvlabPid: options.throughParent ? 0 : (child.pid as number),
    output: '',
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
  child.stdout?.on('data', (chunk: Buffer) => (started.output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (started.output += chunk.toString()));
  return started;
}

async function cvlabPidOf(started: Started): Promise<number> {
  if (started.cvlabPid !== 0) return started.cvlabPid;
  await waitFor(() => /cvlab (\d+)/.test(started.output), 'the shell to say the pid of cvlab');
  return Number(/cvlab (\d+)/.exec(started.output)?.[1]);
}

type Ending = 'SIGINT' | 'SIGTERM' | 'SIGHUP' | 'the parent dying';
const ENDINGS: Ending[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'the parent dying'];

/** Ends a started command the chosen way; resolves when the cvlab process is gone. */
async function end(started: Started, how: Ending): Promise<void> {
  const pid = await cvlabPidOf(started);
  if (how === 'the parent dying') started.child.kill('SIGKILL');
  else process.kill(pid, how);
  await waitFor(() => !alive(pid), `cvlab (pid ${pid}) to exit after ${how}`, 30_000);
}

describe('cvlab probe-emulator cleans up on every exit path', () => {
  it.each(ENDINGS)('%s: socat, the links and the UDP port are gone', async (how) => {
    const oscPort = await freePort();
    const link = join(folder, `probe-${how.replace(/\W/g, '')}`);
    const started = start(['probe-emulator', '--rig', rigPath, '--osc-port', String(oscPort), '--link', link], { throughParent: how === 'the parent dying' });
    await waitFor(() => started.output.includes('serial port for the host'), 'the emulator to start', 30_000);
    const pid = await cvlabPidOf(started);
    const children = await descendants(pid);
    expect(children.map((child) => child.command)).toContain('socat');
    expect(existsSync(link) && existsSync(`${link}.device`)).toBe(true);
    expect(await findUdpListener('127.0.0.1', oscPort)).toBe(true);

    await end(started, how);
    for (const child of children) await waitFor(() => !alive(child.pid), `${child.command} (pid ${child.pid}) to exit`, 10_000);
    await waitFor(() => !existsSync(link) && !existsSync(`${link}.device`), 'the pseudo-terminal links to go', 10_000);
    expect(await findUdpListener('127.0.0.1', oscPort)).toBe(false);
  });

  it('with its UDP port taken: exit 3, saying so, and nothing started or left', async () => {
    const taken: Socket = createSocket('udp4');
    await new Promise<void>((resolve) => taken.bind(0, '127.0.0.1', resolve));
    const link = join(folder, 'probe-taken');
    try {
      const started = start(['probe-emulator', '--rig', rigPath, '--osc-port', String(taken.address().port), '--link', link]);
      const code = await started.exited;
      expect(code).toBe(3);
      expect(started.output).toMatch(/UDP port \d+ is in use/);
      expect(existsSync(link)).toBe(false);
    } finally {
      taken.close();
    }
  });

  it('killed outright (SIGKILL, no chance to clean up): socat still ends with it', async () => {
    const link = join(folder, 'probe-killed');
    const started = start(['probe-emulator', '--rig', rigPath, '--osc-port', String(await freePort()), '--link', link]);
    await waitFor(() => started.output.includes('serial port for the host'), 'the emulator to start', 30_000);
    const children = await descendants(started.child.pid as number);
    expect(children.map((child) => child.command)).toContain('socat');
    started.child.kill('SIGKILL');
    for (const child of children) await waitFor(() => !alive(child.pid), `${child.command} (pid ${child.pid}) to exit`, 10_000);
  });
});

describe('cvlab serve and cvlab run clean up on every exit path', () => {
  it.each(ENDINGS)('serve, %s: exit and the port is free', async (how) => {
    const port = await freePort();
    const started = start(['serve', '--port', String(port)], { throughParent: how === 'the parent dying' });
    await waitFor(() => started.output.includes('cvlab console:'), 'serve to listen', 30_000);
    expect(await answersTcp('127.0.0.1', port)).toBe(true);
    await end(started, how);
    expect(await answersTcp('127.0.0.1', port)).toBe(false);
  });

  it.each(ENDINGS)('run with a bot, %s: the bot and the chat port are gone', async (how) => {
    const chatPort = await freePort();
    // A bot that never joins: the run waits for it, the moment to end cvlab.
    const bot = `node -e "console.log('sleepy bot 1.0'); setInterval(() => {}, 1000)"`;
    const started = start(['run', 'resources/scenarios/burst.json', '--rig', rigPath, '--bot', bot, '--chat-port', String(chatPort), '--no-save'], {
      throughParent: how === 'the parent dying',
    });
    await waitFor(() => started.output.includes('waiting for it to join'), 'the bot to be started', 30_000);
    const pid = await cvlabPidOf(started);
    let bots: { pid: number; command: string }[] = [];
    await waitFor(async () => (bots = (await descendants(pid)).filter((child) => child.command === 'node')).length > 0, 'the bot process');
    expect(await answersTcp('127.0.0.1', chatPort)).toBe(true);
    await end(started, how);
    for (const child of bots) await waitFor(() => !alive(child.pid), `the bot (pid ${child.pid}) to exit`, 10_000);
    expect(await answersTcp('127.0.0.1', chatPort)).toBe(false);
  });
});
