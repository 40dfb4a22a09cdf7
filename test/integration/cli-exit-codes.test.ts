import { createSocket, type Socket } from 'node:dgram';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODE_MEANINGS, EXIT_CODES, type ExitCode } from '../../src/shared/exit-codes';
import { cvlab } from '../setup/cvlab-run';
import { databaseUrl, freePort } from '../setup/services';

// The table of commands × faults × exit codes, run for real: every command with a bad flag, a
// missing file, an unknown id and an unreachable service (where the fault means something for
// it), each against the one table in src/shared/exit-codes.ts.

type Fault = 'bad flag' | 'missing argument' | 'missing file' | 'unknown id' | 'unreachable service' | 'port taken';
interface Case {
  readonly args: () => string[];
  readonly code: ExitCode;
  /** What the message must say (the cause in plain words). */
  readonly says?: RegExp;
}

let folder: string;
let rigPath: string;
let unreachableRigPath: string;
let takenRigPath: string;
/** A database of this test's own, with one saved run and no baseline. */
let database: string;
let closedPort: number;
let takenTcp: Server;
let takenUdp: Socket;
let converter: Socket;
const admin = new pg.Client({ connectionString: databaseUrl() });
const databaseName = `cvlab_exit_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'cvlab-exit-codes-'));
  closedPort = await freePort();
  takenTcp = createServer();
  await new Promise<void>((resolve) => takenTcp.listen(0, '127.0.0.1', resolve));
  takenUdp = createSocket('udp4');
  await new Promise<void>((resolve) => takenUdp.bind(0, '127.0.0.1', resolve));
  converter = createSocket('udp4');
  await new Promise<void>((resolve) => converter.bind(0, '127.0.0.1', resolve));
  const demo = JSON.parse(await readFile('resources/rigs/demo.json', 'utf8')) as Record<string, unknown>;
  const osc = { host: '127.0.0.1', port: converter.address().port, tapPort: await freePort() };
  rigPath = join(folder, 'rig.json');
  await writeFile(rigPath, JSON.stringify({ ...demo, osc }));
  unreachableRigPath = join(folder, 'rig-unreachable-redis.json');
  await writeFile(unreachableRigPath, JSON.stringify({ ...demo, osc, redisUrl: `redis://127.0.0.1:${closedPort}` }));
  takenRigPath = join(folder, 'rig-tap-taken.json');
  await writeFile(takenRigPath, JSON.stringify({ ...demo, osc: { ...osc, tapPort: takenUdp.address().port } }));
  await admin.connect();
  await admin.query(`CREATE DATABASE ${databaseName}`);
  const url = new URL(databaseUrl());
  url.pathname = `/${databaseName}`;
  database = url.href;
  const saved = await cvlab(['run', 'resources/scenarios/burst.json', '--rig', rigPath, '--duration', '500ms', '--rate', '100', '--database-url', database]);
  expect(saved.stderr).toMatch(/saved as run/);
}, 120_000);

afterAll(async () => {
  takenTcp.close();
  takenUdp.close();
  converter.close();
  await admin.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
  await admin.end();
  await rm(folder, { recursive: true, force: true });
});

const missing = (): string => join(folder, 'no-such-file.json');
const closedRedis = (): string => `redis://127.0.0.1:${closedPort}`;
const closedPostgres = (): string => `postgres://postgres@127.0.0.1:${closedPort}/test`;

const TABLE: Record<string, Partial<Record<Fault, Case>>> = {
  send: {
    'bad flag': { args: () => ['send', '--rat', '5', 'hue=0.4'], code: EXIT_CODES.badInput, says: /unknown option '--rat'/ },
    'missing argument': { args: () => ['send'], code: EXIT_CODES.badInput, says: /missing required argument 'text'/ },
    'missing file': { args: () => ['send', '--rig', missing(), 'hue=0.4'], code: EXIT_CODES.badInput, says: /no-such-file\.json.*\n.*cannot read it/ },
    'unknown id': { args: () => ['send', '--rig', rigPath, 'nosuchvariable=1'], code: EXIT_CODES.badInput, says: /unknown_variable/ },
    'unreachable service': { args: () => ['send', '--rig', rigPath, '--redis', closedRedis(), 'hue=0.4'], code: EXIT_CODES.serviceUnreachable, says: /Redis at 127\.0\.0\.1:\d+ did not answer/ },
  },
  doctor: {
    'bad flag': { args: () => ['doctor', '--rigg', rigPath], code: EXIT_CODES.badInput, says: /unknown option '--rigg'/ },
    'missing file': { args: () => ['doctor', '--rig', missing()], code: EXIT_CODES.badInput, says: /cannot read it/ },
    'unreachable service': { args: () => ['doctor', '--rig', unreachableRigPath], code: EXIT_CODES.serviceUnreachable, says: /Redis\s+PROBLEM/ },
  },
  serve: {
    'bad flag': { args: () => ['serve', '--port', 'x'], code: EXIT_CODES.badInput, says: /--port x: expected a whole number/ },
    'port taken': { args: () => ['serve', '--port', String((takenTcp.address() as { port: number }).port)], code: EXIT_CODES.serviceUnreachable, says: /is in use \(try --port 0\)/ },
  },
  run: {
    'bad flag': { args: () => ['run', 'resources/scenarios/burst.json', '--rat', '5'], code: EXIT_CODES.badInput, says: /unknown option '--rat'\n\(Did you mean --rate\?\)/ },
    'missing argument': { args: () => ['run'], code: EXIT_CODES.badInput, says: /missing required argument 'scenario'/ },
    'missing file': { args: () => ['run', missing(), '--rig', rigPath], code: EXIT_CODES.badInput, says: /scenario file .*no-such-file\.json/ },
    'unreachable service': { args: () => ['run', 'resources/scenarios/burst.json', '--rig', rigPath, '--redis', closedRedis(), '--no-save'], code: EXIT_CODES.serviceUnreachable, says: /Redis at 127\.0\.0\.1:\d+ did not answer/ },
    'port taken': { args: () => ['run', 'resources/scenarios/burst.json', '--rig', takenRigPath, '--no-save', '--duration', '500ms'], code: EXIT_CODES.serviceUnreachable, says: /the OSC tap cannot listen on 127\.0\.0\.1:\d+: the port is in use/ },
  },
  loopback: {
    'bad flag': { args: () => ['loopback', '--edges', 'many'], code: EXIT_CODES.badInput, says: /--edges expects a whole number/ },
    'missing file': { args: () => ['loopback', '--rig', missing()], code: EXIT_CODES.badInput, says: /cannot read it/ },
    'unreachable service': { args: () => ['loopback', '--rig', rigPath, '--serial', join(folder, 'no-probe'), '--no-save'], code: EXIT_CODES.serviceUnreachable, says: /the loop-back probe on .*no-probe did not answer/ },
  },
  'probe-emulator': {
    'bad flag': { args: () => ['probe-emulator', '--protocol', '2.0'], code: EXIT_CODES.badInput, says: /expected 1\.0 or 1\.1/ },
    'missing file': { args: () => ['probe-emulator', '--rig', missing()], code: EXIT_CODES.badInput, says: /cannot read it/ },
    'port taken': { args: () => ['probe-emulator', '--rig', rigPath, '--osc-port', String(takenUdp.address().port), '--link', join(folder, 'probe')], code: EXIT_CODES.serviceUnreachable, says: /UDP port \d+ is in use/ },
  },
  agent: {
    'bad flag': { args: () => ['agent', '--redis', 'nowhere'], code: EXIT_CODES.badInput, says: /expected a redis:\/\/ or rediss:\/\/ URL/ },
    'unreachable service': { args: () => ['agent', '--redis', closedRedis(), '--once'], code: EXIT_CODES.serviceUnreachable, says: /Redis at 127\.0\.0\.1:\d+ did not answer/ },
  },
  runs: {
    'bad flag': { args: () => ['runs', '--limit', 'lots', '--database-url', database], code: EXIT_CODES.badInput, says: /--limit: expected a whole number/ },
    'unknown id': { args: () => ['runs', '--status', 'bogus', '--database-url', database], code: EXIT_CODES.badInput, says: /--status: expected one of/ },
    'unreachable service': { args: () => ['runs', '--database-url', closedPostgres()], code: EXIT_CODES.serviceUnreachable, says: /PostgreSQL at 127\.0\.0\.1:\d+ did not answer/ },
  },
  report: {
    'bad flag': { args: () => ['report', 'latest', '--htm', 'x.html', '--database-url', database], code: EXIT_CODES.badInput, says: /unknown option '--htm'/ },
    'unknown id': { args: () => ['report', 'nosuchid', '--database-url', database], code: EXIT_CODES.badInput, says: /No saved run has the id "nosuchid"/ },
    'unreachable service': { args: () => ['report', 'latest', '--database-url', closedPostgres()], code: EXIT_CODES.serviceUnreachable, says: /PostgreSQL at 127\.0\.0\.1:\d+ did not answer/ },
  },
  baseline: {
    'missing argument': { args: () => ['baseline', '--database-url', database], code: EXIT_CODES.badInput, says: /missing required argument 'run-id'/ },
    'unknown id': { args: () => ['baseline', 'nosuchid', '--database-url', database], code: EXIT_CODES.badInput, says: /No saved run has the id "nosuchid"/ },
    'unreachable service': { args: () => ['baseline', 'latest', '--database-url', closedPostgres()], code: EXIT_CODES.serviceUnreachable, says: /did not answer/ },
  },
  compare: {
    'unknown id': { args: () => ['compare', 'nosuchid', '--database-url', database], code: EXIT_CODES.badInput, says: /No saved run has the id "nosuchid"/ },
    // The one run saved here has no baseline to be compared with: the input names nothing.
    'missing argument': { args: () => ['compare', 'latest', '--database-url', database], code: EXIT_CODES.badInput, says: /No baseline is marked for rig "demo" and scenario "burst"/ },
    'unreachable service': { args: () => ['compare', 'latest', '--database-url', closedPostgres()], code: EXIT_CODES.serviceUnreachable, says: /did not answer/ },
  },
  trend: {
    'missing argument': { args: () => ['trend', '--scenario', 'burst', '--database-url', database], code: EXIT_CODES.badInput, says: /required option '--rig <name>' not specified/ },
    'bad flag': { args: () => ['trend', '--rig', 'demo', '--scenario', 'burst', '--percentile', 'p42', '--database-url', database], code: EXIT_CODES.badInput, says: /--percentile: expected one of/ },
    'unreachable service': { args: () => ['trend', '--rig', 'demo', '--scenario', 'burst', '--database-url', closedPostgres()], code: EXIT_CODES.serviceUnreachable, says: /did not answer/ },
  },
};

const CASES = Object.entries(TABLE).flatMap(([command, faults]) =>
  Object.entries(faults).map(([fault, expected]) => ({ command, fault, ...expected })),
);

describe('every command exits with the table code for each fault', () => {
  it.concurrent.each(CASES)('$command, $fault: exit $code', async ({ args, code, says }) => {
    const result = await cvlab(args());
    const output = `${result.stdout}${result.stderr}`;
    expect({ code: result.code, output }).toMatchObject({ code });
    if (says) expect(output).toMatch(says);
    // Plain words: never a stack trace for an expected fault.
    expect(output).not.toMatch(/\n\s+at .+:\d+:\d+/);
  }, 180_000);

  it('unknown commands and no command at all are bad input; --help and --version are not errors', async () => {
    const [unknown, none, help, version] = await Promise.all([cvlab(['sned']), cvlab([]), cvlab(['--help']), cvlab(['--version'])]);
    expect(unknown.code).toBe(EXIT_CODES.badInput);
    expect(unknown.stderr).toMatch(/unknown command 'sned'\n\(Did you mean send\?\)/);
    expect(none.code).toBe(EXIT_CODES.badInput);
    expect(help.code).toBe(EXIT_CODES.passed);
    expect(version.code).toBe(EXIT_CODES.passed);
  });

  it("doctor exits 0 when every row is OK, and each command's --help lists every code", async () => {
    const doctor = await cvlab(['doctor', '--rig', rigPath]);
    expect(doctor.stdout).not.toMatch(/PROBLEM/);
    expect(doctor.code, doctor.stdout).toBe(EXIT_CODES.passed);
    const helps = await Promise.all(Object.keys(TABLE).map(async (command) => ({ command, help: await cvlab([command, '--help']) })));
    for (const { command, help } of helps) {
      expect(help.code, command).toBe(EXIT_CODES.passed);
      const section = help.stdout.slice(help.stdout.indexOf('Exit codes:'));
      for (const listed of Object.keys(EXIT_CODE_MEANINGS)) expect(section, `${command} --help`).toMatch(new RegExp(`^  ${listed}  \\S`, 'm'));
    }
  }, 120_000);
});
