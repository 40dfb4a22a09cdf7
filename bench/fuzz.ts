// Fuzzing at scale, beside the bounded property tests: random HTTP paths and Host headers and
// random WebSocket frames against one real LabServer, damaged rig and scenario files through the
// readers, chat messages through the validator (CHAT_FUZZ_CASES, default 1,000,000) and probe
// serial lines through the protocol parser. Prints one JSON line: cases and crashes per target (a crash: the server stopped
// answering, a frame got no reply or a closed socket, a reader threw something other than a
// ValidationError). FUZZ_CASES sets the count per target (default 100,000).
import fc from 'fast-check';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';
import { ValidationError } from '../src/shared/format-issues';
import { RigSchema } from '../src/shared/rig';
import { compileThresholds, ScenarioSchema } from '../src/shared/scenario';
import { parseJsonText } from '../src/main/lab/files/json-file';
import { Lab } from '../src/main/lab/lab';
import { LabServer } from '../src/main/lab/server/lab-server';
import { fileMutation } from '../test/fuzz/file-mutations';
import { parseProbeLine } from '../src/main/lab/loopback/probe-protocol';
import { MessageValidator } from '../src/main/lab/common/message-validator';
import { loadRig } from '../src/main/lab/files/rig-file';

const CASES = Number(process.env['FUZZ_CASES'] ?? 100_000);
const CHAT_CASES = Number(process.env['CHAT_FUZZ_CASES'] ?? 1_000_000);
const ROOT = resolve(import.meta.dirname, '..');
const TOKEN = 'fuzz-token';

interface Tally {
  cases: number;
  crashes: number;
  examples: string[];
}
const tally = (): Tally => ({ cases: 0, crashes: 0, examples: [] });
function crash(target: Tally, example: string): void {
  target.crashes++;
  if (target.examples.length < 5) target.examples.push(example.slice(0, 200));
}

const pathPart = fc.constantFrom(...'abc/%.-_~!$&\'()*+,;=:@09AFZaz\\'.split(''), '%', '%E0', '%A4', '%ZZ', '%00', '%2F', '..', '%C0%AF', '/lab', '/metrics', '?token=');
const paths = fc.array(pathPart, { maxLength: 40 }).map((parts) => '/' + parts.join(''));
const hosts = fc.option(fc.string({ maxLength: 40 }).filter((host) => /^[\x21-\x7e]*$/.test(host)), { nil: undefined });

async function fuzzHttp(port: number): Promise<Tally> {
  const result = tally();
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const one = (path: string, host: string | undefined): Promise<number> =>
    new Promise((done) => {
      const req = httpRequest({ host: '127.0.0.1', port, path, agent, headers: host === undefined ? {} : { host }, insecureHTTPParser: true }, (res) => {
        res.resume();
        res.once('end', () => done(res.statusCode ?? 0));
      });
      req.once('error', () => done(0));
      req.end();
    });
  const samples = fc.sample(fc.tuple(paths, hosts), CASES);
  for (let start = 0; start < samples.length; start += 64) {
    const batch = samples.slice(start, start + 64);
    const statuses = await Promise.all(batch.map(([path, host]) => one(path, host)));
    statuses.forEach((status, index) => {
      result.cases++;
      if (status < 200 || status >= 500) crash(result, `${status} ${batch[index]![0]} Host=${batch[index]![1]}`);
    });
  }
  agent.destroy();
  return result;
}

async function fuzzFrames(port: number): Promise<Tally> {
  const result = tally();
  const frames = fc.oneof(
    { arbitrary: fc.string({ maxLength: 200 }), weight: 30 },
    { arbitrary: fc.json({ maxDepth: 3 }), weight: 30 },
    { arbitrary: fc.record({ type: fc.constantFrom('call', 'subscribe', 'unsubscribe', 'other'), id: fc.oneof(fc.integer(), fc.string()), command: fc.string({ maxLength: 20 }), event: fc.string({ maxLength: 20 }), args: fc.anything({ maxDepth: 2 }) }).map((value) => JSON.stringify(value)), weight: 30 },
    // Large frames (under the 4 MB limit) are rare: each costs milliseconds to send and parse.
    { arbitrary: fc.integer({ min: 100_000, max: 1_000_000 }).map((size) => 'x'.repeat(size)), weight: 1 },
  );
  const socket = new WebSocket(`ws://127.0.0.1:${port}/lab?token=${TOKEN}`, { headers: { origin: `http://127.0.0.1:${port}` } });
  await new Promise((done, fail) => {
    socket.once('open', done);
    socket.once('error', fail);
  });
  let closed = false;
  socket.once('close', () => (closed = true));
  for (const frame of fc.sample(frames, CASES)) {
    if (closed) break;
    result.cases++;
    const reply = await new Promise<string | undefined>((done) => {
      const timer = setTimeout(() => done(undefined), 5_000);
      socket.once('message', (data) => {
        clearTimeout(timer);
        done(data.toString());
      });
      socket.send(frame);
    });
    if (reply === undefined || !reply.startsWith('{"type":"error"')) crash(result, `${frame.slice(0, 120)} → ${reply?.slice(0, 80) ?? 'no reply'}`);
  }
  if (closed) crash(result, 'the socket was closed');
  socket.close();
  return result;
}

function fuzzFiles(): Tally {
  const result = tally();
  const rigText = readFileSync(join(ROOT, 'resources/rigs/demo.json'), 'utf8');
  const scenarioTexts = readdirSync(join(ROOT, 'resources/scenarios')).map((name) => readFileSync(join(ROOT, 'resources/scenarios', name), 'utf8'));
  const files = fc.oneof(
    fileMutation(rigText).map((mutation) => ({ ...mutation, kind: `rig: ${mutation.kind}`, rig: true })),
    fc.constantFrom(...scenarioTexts).chain((text) => fileMutation(text)).map((mutation) => ({ ...mutation, kind: `scenario: ${mutation.kind}`, rig: false })),
  );
  for (const mutation of fc.sample(files, CASES)) {
    result.cases++;
    try {
      if (mutation.rig) parseJsonText(mutation.text, RigSchema, 'rig file');
      else compileThresholds(parseJsonText(mutation.text, ScenarioSchema, 'scenario file').thresholds ?? {});
    } catch (error) {
      if (!(error instanceof ValidationError)) crash(result, `${mutation.kind}: ${String(error)}`);
    }
  }
  return result;
}

/** Chat text near the grammar (names, numbers, operators, invisible characters) and arbitrary text. */
const chatPiece = fc.oneof(
  fc.constantFrom('hue', 'sat', 'zoom', 'shape', 'invert', '!set', '!hue', '=', '==', ' ', '%', '+', '-', '.', 'e', '1e9', 'NaN', 'Infinity', 'min', 'max', 'mid', 'on', 'off', 'sine', '\u200b', '\u202e', '\u0000', '\ud800', '0.4', '80%'),
  fc.string({ maxLength: 6 }),
  fc.double().map(String),
);
const chatTexts = fc.oneof(fc.array(chatPiece, { maxLength: 24 }).map((pieces) => pieces.join('')), fc.string({ maxLength: 300, unit: 'binary' }));

/** The validator never throws: every text is accepted or refused with a code (1,000,000 by default). */
async function fuzzChat(): Promise<Tally> {
  const result = tally();
  const validator = new MessageValidator(await loadRig());
  for (let done = 0; done < CHAT_CASES; done += 10_000) {
    for (const text of fc.sample(chatTexts, Math.min(10_000, CHAT_CASES - done))) {
      result.cases++;
      try {
        const outcome = validator.validate(text);
        if (!outcome.ok && typeof outcome.rejection.code !== 'string') crash(result, `no code: ${JSON.stringify(text)}`);
      } catch (error) {
        crash(result, `${JSON.stringify(text)}: ${String(error)}`);
      }
    }
  }
  return result;
}

/** The probe protocol parser never throws on a serial line, whatever arrives. */
function fuzzSerialLines(): Tally {
  const result = tally();
  const linePiece = fc.oneof(fc.constantFrom('PONG', 'EDGE', 'HELLO', 'cvlab-probe', 'OK', 'ARM', 'rise', 'fall', 'uart', 'usb', ' ', '-1', '1e99', '4294967296'), fc.nat().map(String), fc.string({ maxLength: 8 }));
  const lines = fc.oneof(fc.array(linePiece, { maxLength: 10 }).map((pieces) => pieces.join(' ')), fc.string({ maxLength: 200, unit: 'binary' }));
  for (const line of fc.sample(lines, CASES)) {
    result.cases++;
    try {
      parseProbeLine(line);
    } catch (error) {
      crash(result, `${JSON.stringify(line)}: ${String(error)}`);
    }
  }
  return result;
}

const rendererDir = mkdtempSync(join(tmpdir(), 'cvlab-fuzz-'));
writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>cvlab</title>');
const lab = new Lab({ host: 'serve', dataDir: rendererDir, stores: null });
const server = await LabServer.start({ lab, rendererDir, port: 0, token: TOKEN });
const started = Date.now();
const http = await fuzzHttp(server.address.port);
const frames = await fuzzFrames(server.address.port);
const files = fuzzFiles();
const chat = await fuzzChat();
const serialLines = fuzzSerialLines();
// The server must still serve after all of it.
const alive = await fetch(`http://127.0.0.1:${server.address.port}/`).then((response) => response.status === 200, () => false);
await server.close();
await lab.dispose();
rmSync(rendererDir, { recursive: true, force: true });
console.log(
  JSON.stringify({
    bench: 'fuzz',
    casesPerTarget: CASES,
    http,
    frames,
    files,
    chat,
    serialLines,
    serverAliveAfter: alive,
    crashes: http.crashes + frames.crashes + files.crashes + chat.crashes + serialLines.crashes + (alive ? 0 : 1),
    seconds: Math.round((Date.now() - started) / 100) / 10,
    loadAverage: loadavg()[0],
  }),
);
process.exit(http.crashes + frames.crashes + files.crashes + chat.crashes + serialLines.crashes === 0 && alive ? 0 : 1);
