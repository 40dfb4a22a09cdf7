import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createLabProxy,
  dispatchCommand,
  labChannel,
  LAB_COMMAND_NAMES,
  LAB_COMMANDS,
  LAB_EVENT_NAMES,
  LAB_EVENTS,
  type LabApi,
  type LabCommandName,
  type LabEventName,
} from '../../src/shared/api';
import { contentSecurityPolicy } from '../../src/main/lab/server/content-security-policy';

const jsonSchema = (schema: z.ZodType): unknown => z.toJSONSchema(schema, { unrepresentable: 'any', io: 'input' });

describe('the LabApi contract', () => {
  it('lists its channels and schemas (review any change to this snapshot)', () => {
    const contract = {
      commands: Object.fromEntries(
        LAB_COMMAND_NAMES.map((name) => [
          labChannel(name),
          { args: jsonSchema(LAB_COMMANDS[name].args), result: jsonSchema(LAB_COMMANDS[name].result) },
        ]),
      ),
      events: Object.fromEntries(
        LAB_EVENT_NAMES.map((name) => [labChannel(name), { payload: jsonSchema(LAB_EVENTS[name].payload) }]),
      ),
    };
    expect(contract).toMatchSnapshot();
  });

  it('names every event onDid…', () => {
    for (const name of LAB_EVENT_NAMES) expect(name).toMatch(/^onDid[A-Z]/);
  });

  it('derives a proxy with exactly one function per command and event', async () => {
    const calls: [LabCommandName, unknown[]][] = [];
    const listened: LabEventName[] = [];
    const proxy = createLabProxy({
      invoke: async (command, args) => {
        calls.push([command, args]);
        return 'ok';
      },
      listen: (event) => {
        listened.push(event);
        return () => undefined;
      },
    });
    expect(Object.keys(proxy).sort()).toEqual([...LAB_COMMAND_NAMES, ...LAB_EVENT_NAMES].sort());
    await expect(proxy.readRig('/tmp/x.json')).resolves.toBe('ok');
    expect(calls).toEqual([['readRig', ['/tmp/x.json']]]);
    const unsubscribe = proxy.onDidRunFrames(() => undefined);
    expect(typeof unsubscribe).toBe('function');
    expect(listened).toEqual(['onDidRunFrames']);
  });

  describe('dispatchCommand (the border every call crosses)', () => {
    const served: unknown[][] = [];
    const api = createLabProxy({
      invoke: async (command, args) => {
        served.push([command, ...args]);
        return null;
      },
      listen: () => () => undefined,
    }) satisfies LabApi;

    it('refuses a command the contract does not have, including prototype names', async () => {
      await expect(dispatchCommand(api, 'deleteEverything', [])).rejects.toThrow(/Unknown command "deleteEverything"/);
      await expect(dispatchCommand(api, 'constructor', [])).rejects.toThrow(/Unknown command/);
      await expect(dispatchCommand(api, 'toString', [])).rejects.toThrow(/Unknown command/);
    });

    it('names the bad argument and what was expected', async () => {
      await expect(dispatchCommand(api, 'readRig', [42])).rejects.toThrow(
        /The arguments of readRig is not valid[\s\S]*\[0\]/,
      );
      await expect(dispatchCommand(api, 'readRig', ['/etc/passwd'])).rejects.toThrow(
        /expected a path to a \.json file/,
      );
      await expect(dispatchCommand(api, 'saveScenario', ['../escape', {}])).rejects.toThrow(/without folders/);
      await expect(dispatchCommand(api, 'about', ['extra'])).rejects.toThrow(/about/);
    });

    it('passes parsed arguments through to the engine', async () => {
      served.length = 0;
      await dispatchCommand(api, 'readScenario', ['/data/burst.json']);
      expect(served).toEqual([['readScenario', '/data/burst.json']]);
    });
  });
});

describe("the console's Content-Security-Policy", () => {
  it('is the same in the Electron shell, the page and cvlab serve (no connections, no inline code)', () => {
    const policy = contentSecurityPolicy();
    expect(policy).toContain("connect-src 'none'");
    expect(policy).not.toContain('unsafe-');
    expect(readFileSync(new URL('../../src/main/index.ts', import.meta.url), 'utf8')).toContain(`"${policy}"`);
    const page = readFileSync(new URL('../../src/renderer/index.html', import.meta.url), 'utf8');
    expect(page).toContain(policy.replace(/; frame-ancestors 'none'/, ''));
  });

  it("lets cvlab serve pages connect to the server's own socket only", () => {
    expect(contentSecurityPolicy(['ws://127.0.0.1:5170'])).toContain('connect-src ws://127.0.0.1:5170;');
  });
});
