import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { findUdpListener } from '../../src/main/lab/common/find-udp-listener';

// Real sockets, read back from the kernel's tables.
const open: Socket[] = [];
afterEach(() => open.splice(0).forEach((socket) => socket.close()));

async function bound(type: 'udp4' | 'udp6', address: string): Promise<number> {
  const socket = createSocket({ type, ipv6Only: type === 'udp6' && address !== '::' });
  open.push(socket);
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  return socket.address().port;
}

describe('findUdpListener', () => {
  it('finds a socket bound to the loopback address, to the any-address, and on IPv6', async () => {
    expect(await findUdpListener('127.0.0.1', await bound('udp4', '127.0.0.1'))).toBe(true);
    expect(await findUdpListener('127.0.0.1', await bound('udp4', '0.0.0.0'))).toBe(true);
    expect(await findUdpListener('::1', await bound('udp6', '::1'))).toBe(true);
    expect(await findUdpListener('127.0.0.1', await bound('udp6', '::'))).toBe(true);
  });

  it('finds nothing on a port no one has bound, or bound to another address', async () => {
    const port = await bound('udp4', '127.0.0.1');
    open.splice(0).forEach((socket) => socket.close());
    expect(await findUdpListener('127.0.0.1', port)).toBe(false);
    expect(await findUdpListener('127.0.0.2', await bound('udp4', '127.0.0.1'))).toBe(false);
  });

  it('does not count a socket connected to one peer, which hears no one else', async () => {
    const socket = createSocket('udp4');
    open.push(socket);
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => socket.connect(9, '127.0.0.1', resolve));
    expect(await findUdpListener('127.0.0.1', socket.address().port)).toBe(false);
  });

  it('cannot tell for another machine', async () => {
    expect(await findUdpListener('192.0.2.1', 9000)).toBeUndefined();
  });
});
