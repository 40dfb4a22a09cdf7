import { readFile } from 'node:fs/promises';
import { isIPv4, isIPv6 } from 'node:net';
import { endianness } from 'node:os';

/**
 * Whether a UDP socket on this machine would receive datagrams sent to `address:port`, read
 * from the kernel's socket tables (/proc/net/udp and udp6): nothing is sent, so a converter
 * on the wire never sees anything but OSC, and no port is taken even for an instant.
 * Undefined where the answer cannot be read: another machine's address, a system without
 * /proc (macOS, Windows).
 */
export async function findUdpListener(address: string, port: number): Promise<boolean | undefined> {
  if (!isLocalAddress(address)) return undefined;
  const tables = await Promise.all([readTable('/proc/net/udp'), readTable('/proc/net/udp6')]);
  if (tables.every((table) => table === undefined)) return undefined;
  const wanted = isIPv6(address) ? address.toLowerCase() : address;
  for (const table of tables) {
    for (const socket of table ?? []) {
      if (socket.port !== port || socket.connected) continue;
      if (socket.address === wanted || isWildcard(socket.address, wanted)) return true;
    }
  }
  return false;
}

const isLocalAddress = (address: string): boolean => address === '::1' || (isIPv4(address) && address.startsWith('127.'));

/** A socket bound to the any-address of the family (or IPv6's, which takes IPv4 too unless V6ONLY) receives it. */
function isWildcard(bound: string, wanted: string): boolean {
  if (bound === '::') return true;
  return bound === '0.0.0.0' && isIPv4(wanted);
}

interface BoundSocket {
  readonly address: string;
  readonly port: number;
  /** Connected to one peer: it hears no one else. */
  readonly connected: boolean;
}

async function readTable(path: string): Promise<BoundSocket[] | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  const sockets: BoundSocket[] = [];
  // "  sl  local_address rem_address   st ...": addresses as hex words, ports as hex.
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    const remote = fields[2];
    if (!local || !remote) continue;
    const [localHex, portHex] = local.split(':');
    const [, remotePortHex] = remote.split(':');
    if (!localHex || !portHex) continue;
    sockets.push({ address: decodeAddress(localHex), port: Number.parseInt(portHex, 16), connected: remotePortHex !== '0000' });
  }
  return sockets;
}

/**
 * The kernel prints each 32-bit word of the address as a host-order number: on a
 * little-endian machine 127.0.0.1 reads 0100007F.
 */
function decodeAddress(hex: string): string {
  const bytes = Buffer.alloc(hex.length / 2);
  for (let word = 0; word < hex.length / 8; word++) {
    const value = Number.parseInt(hex.slice(word * 8, word * 8 + 8), 16);
    if (endianness() === 'LE') bytes.writeUInt32LE(value, word * 4);
    else bytes.writeUInt32BE(value, word * 4);
  }
  if (bytes.length === 4) return bytes.join('.');
  const mappedIPv4 = bytes.subarray(0, 12).equals(Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]));
  if (mappedIPv4) return bytes.subarray(12).join('.');
  const groups: string[] = [];
  for (let index = 0; index < 16; index += 2) groups.push(bytes.readUInt16BE(index).toString(16));
  return compressIPv6(groups);
}

/** The shortest form of an IPv6 address (the longest run of zero groups as "::"). */
function compressIPv6(groups: string[]): string {
  let bestStart = -1;
  let bestLength = 0;
  for (let start = 0; start < groups.length; ) {
    if (groups[start] !== '0') {
      start++;
      continue;
    }
    let end = start;
    while (end < groups.length && groups[end] === '0') end++;
    if (end - start > bestLength && end - start > 1) {
      bestStart = start;
      bestLength = end - start;
    }
    start = end;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`;
}
