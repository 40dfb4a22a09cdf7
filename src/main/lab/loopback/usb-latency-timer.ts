import { readFile, realpath } from 'node:fs/promises';
import { basename } from 'node:path';

// A USB-serial adapter (FTDI and kin) holds bytes bound for the host until its buffer fills or
// its latency timer runs out: 16 ms by default on Linux, which delays every PONG and EDGE line
// by up to that much and leaves the clock model nothing quick to fit. Linux shows the timer
// in sysfs per tty; 1 ms is the setting a probe wants.

/** Above this the adapter holds replies long enough to spoil the clock fit. */
export const LATENCY_TIMER_LIMIT_MS = 1;

/** The latency timer of the USB-serial adapter behind `path`, ms; null when there is none (or not Linux). */
export async function readUsbLatencyTimerMs(path: string, sysfsRoot = '/sys/bus/usb-serial/devices'): Promise<number | null> {
  if (process.platform !== 'linux' && sysfsRoot === '/sys/bus/usb-serial/devices') return null;
  try {
    // /dev/serial/by-id/… and udev symlinks name the same tty: resolve to ttyUSB0 and the like.
    const tty = basename(await realpath(path));
    const text = await readFile(`${sysfsRoot}/${tty}/latency_timer`, 'utf8');
    const value = Number(text.trim());
    return Number.isFinite(value) ? value : null;
  } catch {
    return null;
  }
}

/** The command that sets the timer to 1 ms until the adapter is replugged, for the person at the bench. */
export function latencyTimerFix(path: string, tty = basename(path)): string {
  return `echo 1 | sudo tee /sys/bus/usb-serial/devices/${tty}/latency_timer (or for good: a udev rule ATTR{latency_timer}="1"; setserial ${path} low_latency also works)`;
}
