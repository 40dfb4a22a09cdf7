import { Bundle, decode, encode, Message } from 'node-osc';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describePacket, OscOutput } from '../../src/main/lab/engine/pipeline/osc-output';
import { scaleToOutput } from '../../src/main/lab/common/output-scale';
import { loadRig } from '../../src/main/lab/files/rig-file';
import type { RigConfig } from '../../src/shared/rig';

describe('OscOutput.encode', () => {
  let rig: RigConfig;
  let output: OscOutput;
  beforeAll(async () => {
    rig = await loadRig();
    output = await OscOutput.open(rig);
  });
  afterAll(() => output.close());

  it('writes the same bytes as node-osc for any single value', () => {
    fc.assert(
      fc.property(fc.constantFrom(...rig.variables), fc.double({ min: 0, max: 1, noNaN: true }), (variable, fraction) => {
        const value = variable.min + fraction * (variable.max - variable.min);
        const { buffer, packet } = output.encode([{ variable: variable.name, value, version: 1, writer: 'w' }]);
        const expected = encode(new Message(variable.address, { type: 'f', value: scaleToOutput(variable, value) }));
        expect(buffer.equals(expected)).toBe(true);
        expect(packet).toMatchObject({ bundle: false, bytes: expected.length });
      }),
    );
  });

  it('writes the same bytes as node-osc for any bundle, and reads them back for people', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...rig.variables), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: 2, maxLength: 8 }),
        (picked) => {
          const changes = picked.map(([variable, fraction]) => ({ variable: variable.name, value: variable.min + fraction * (variable.max - variable.min), version: 1, writer: 'w' }));
          const messages = picked.map(([variable], index) => new Message(variable.address, { type: 'f', value: scaleToOutput(variable, changes[index]!.value) }));
          const expected = encode(new Bundle(0, ...messages));
          const reusable = output.encodeReusable(changes);
          expect(reusable.equals(expected)).toBe(true);
          const described = describePacket(reusable);
          expect(described.bundle).toBe(true);
          expect(described.bytes).toBe(expected.length);
          expect(described.messages.map((message) => message.address)).toEqual(picked.map(([variable]) => variable.address));
          expect(described.messages.every((message) => message.typeTags === 'f')).toBe(true);
        },
      ),
    );
  });

  it('bundles several changes in the order given', () => {
    const { buffer, packet } = output.encode([
      { variable: 'hue', value: 0.25, version: 1, writer: 'w' },
      { variable: 'invert', value: 1, version: 1, writer: 'w' },
    ]);
    const decoded = decode(buffer) as { oscType: string; elements: { address: string; args: { value: number }[] }[] };
    expect(decoded.oscType).toBe('bundle');
    expect(decoded.elements.map((element) => [element.address, element.args[0]?.value])).toEqual([
      ['/lzx/colorizer/hue', 0.25],
      ['/lzx/proc/invert', 1],
    ]);
    expect(packet.bundle).toBe(true);
  });
});
