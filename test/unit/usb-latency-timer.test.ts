import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readUsbLatencyTimerMs } from '../../src/main/lab/loopback/usb-latency-timer';

// A sysfs-shaped folder stands in for /sys/bus/usb-serial/devices (no adapter on the test machine).
const root = mkdtempSync(join(tmpdir(), 'cvlab-sysfs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('USB-serial latency timer', () => {
  it('reads the timer of the tty behind a udev symlink', async () => {
    mkdirSync(join(root, 'devices', 'ttyUSB7'), { recursive: true });
    writeFileSync(join(root, 'devices', 'ttyUSB7', 'latency_timer'), '16\n');
    writeFileSync(join(root, 'ttyUSB7'), '');
    symlinkSync(join(root, 'ttyUSB7'), join(root, 'by-id-probe'));
    expect(await readUsbLatencyTimerMs(join(root, 'by-id-probe'), join(root, 'devices'))).toBe(16);
  });

  it('gives null for a port with no adapter (native USB, a pseudo-terminal)', async () => {
    writeFileSync(join(root, 'ttyACM0'), '');
    expect(await readUsbLatencyTimerMs(join(root, 'ttyACM0'), join(root, 'devices'))).toBeNull();
  });
});
