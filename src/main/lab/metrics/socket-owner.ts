import { readdir, readFile, readlink } from 'node:fs/promises';

/** The process found at one end of a TCP connection, or why none was. */
export type SocketOwner = { readonly pid: number } | { readonly unavailable: string };

const ESTABLISHED = '01';

/**
 * The inode of the established TCP socket whose own end is `localPort` and whose far end is
 * `remotePort`, from the kernel's tables (/proc/net/tcp and tcp6: "local_address rem_address st
 * … inode", ports in hex). Both ends are on this machine when the row exists.
 */
export function findSocketInode(tables: readonly string[], localPort: number, remotePort: number): number | undefined {
  for (const table of tables) {
    for (const line of table.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== ESTABLISHED) continue;
      const local = Number.parseInt((fields[1] ?? '').split(':')[1] ?? '', 16);
      const remote = Number.parseInt((fields[2] ?? '').split(':')[1] ?? '', 16);
      const inode = Number(fields[9]);
      if (local === localPort && remote === remotePort && inode > 0) return inode;
    }
  }
  return undefined;
}

async function readTable(path: string): Promise<string> {
  try {
    return await readFile(path, 'latin1');
  } catch {
    return '';
  }
}

/**
 * Finds the process that owns a chat connection from its far end: the socket whose own port is
 * the peer's and whose far port is ours (/proc/net/tcp, tcp6), then the process holding that
 * socket's inode among its open files (/proc/<pid>/fd). Plain words when there is none: the peer
 * is on another machine, or the process belongs to another user (its files cannot be read).
 */
export async function findSocketOwner(peer: { readonly host: string; readonly port: number }, ourPort: number): Promise<SocketOwner> {
  if (process.platform !== 'linux') return { unavailable: `the bot's process is found through /proc, which ${process.platform} does not have` };
  const tables = await Promise.all([readTable('/proc/net/tcp'), readTable('/proc/net/tcp6')]);
  const inode = findSocketInode(tables, peer.port, ourPort);
  if (inode === undefined) {
    return { unavailable: `no socket on this machine is the bot's end of the chat connection (${peer.host}:${peer.port}): it runs on another machine, in a container or another network namespace` };
  }
  const target = `socket:[${inode}]`;
  let unreadable = 0;
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  for (const pid of pids) {
    if (Number(pid) === process.pid) continue;
    let fds: string[];
    try {
      fds = await readdir(`/proc/${pid}/fd`);
    } catch {
      unreadable++;
      continue;
    }
    for (const fd of fds) {
      try {
        if ((await readlink(`/proc/${pid}/fd/${fd}`)) === target) return { pid: Number(pid) };
      } catch {
        // Closed meanwhile.
      }
    }
  }
  return {
    unavailable: `the bot's chat socket (${peer.host}:${peer.port}) is held by a process cvlab may not look into${unreadable > 0 ? ` (${unreadable} processes of other users or the system)` : ''}: run the bot as the same user as cvlab to measure its CPU and memory`,
  };
}
