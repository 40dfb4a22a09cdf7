import { execFileSync } from 'node:child_process';
import { open, readdir, readFile, type FileHandle } from 'node:fs/promises';

/** One reading of a process tree: CPU since the reading before and memory now, summed over its processes. */
export interface ProcessTreeReading {
  /** Monotonic ms (performance.now()) when the reading was taken. */
  readonly atMs: number;
  /** Clock ticks of user + system CPU the tree used since the reading before. */
  readonly cpuTicks: number;
  /** User + system CPU since the reading before, percent of one core. */
  readonly cpuPercent: number;
  readonly rssBytes: number;
  readonly processes: number;
}

/** What /proc/<pid>/stat says of one process. */
export interface ProcessStat {
  readonly pid: number;
  readonly name: string;
  readonly parentPid: number;
  /** utime + stime, clock ticks. */
  readonly cpuTicks: number;
  /** Resident pages. */
  readonly rssPages: number;
  /** Ticks after boot the process started (tells a reused pid from the process that had it). */
  readonly startTicks: number;
}

/**
 * Parses /proc/<pid>/stat. The name (comm) is in parentheses and may hold spaces and parentheses
 * itself, so the fields are counted from the last ')'.
 */
export function parseProcessStat(text: string): ProcessStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const fields = text.slice(close + 2).split(' ');
  // After the name: state(3) ppid(4) … utime(14) stime(15) … starttime(22) vsize(23) rss(24).
  const parentPid = Number(fields[1]);
  const cpuTicks = Number(fields[11]) + Number(fields[12]);
  const startTicks = Number(fields[19]);
  const rssPages = Number(fields[21]);
  if (![parentPid, cpuTicks, startTicks, rssPages].every(Number.isFinite)) return undefined;
  return { pid: Number(text.slice(0, open)), name: text.slice(open + 1, close), parentPid, cpuTicks, rssPages, startTicks };
}

let systemFigures: { ticksPerSecond: number; pageBytes: number } | undefined;

/** Clock ticks per second and the page size, asked of the system once (getconf), else Linux's usual 100 and 4096. */
export function procUnits(): { ticksPerSecond: number; pageBytes: number } {
  if (systemFigures) return systemFigures;
  const ask = (name: string, fallback: number): number => {
    try {
      const value = Number(execFileSync('getconf', [name], { encoding: 'utf8', timeout: 2000 }).trim());
      return Number.isFinite(value) && value > 0 ? value : fallback;
    } catch {
      return fallback;
    }
  };
  systemFigures = { ticksPerSecond: ask('CLK_TCK', 100), pageBytes: ask('PAGESIZE', 4096) };
  return systemFigures;
}

interface Member {
  readonly pid: number;
  readonly name: string;
  readonly startTicks: number;
  /** Kept open: reading /proc/<pid>/stat again from offset 0 gives fresh figures, one system call each time. */
  readonly handle: FileHandle;
  readonly buffer: Buffer;
  lastTicks: number;
}

export interface ProcessTreeSamplerOptions {
  /** How often the tree is looked for new descendants (default 1 s); a reading itself reads only the known processes. */
  readonly discoverEveryMs?: number;
}

/**
 * Watches a process and every descendant (a shell wrapper, `npm start`, a Python venv launcher
 * and what they start) from /proc: CPU as user + system ticks, memory as resident pages. Each
 * process's stat file stays open, so a reading is one read per process; descendants are found
 * through /proc/<pid>/task/<tid>/children (every thread's, as any thread may have started one),
 * or by walking every process's parent where the kernel lacks those files. Reads are asynchronous
 * (libuv's pool): the thread that asks only adds the figures up.
 */
export class ProcessTreeSampler {
  private readonly members = new Map<number, Member>();
  /** Every process ever seen in the tree, in order of discovery. */
  private readonly seen: { pid: number; name: string }[] = [];
  private readonly units = procUnits();
  private lastDiscoveryMs = Number.NEGATIVE_INFINITY;
  private lastReadingMs: number | undefined;
  private closed = false;

  private constructor(
    readonly rootPid: number,
    private readonly options: ProcessTreeSamplerOptions,
  ) {}

  /** Starts watching the tree rooted at `rootPid`; fails when that process cannot be read. */
  static async watch(rootPid: number, options: ProcessTreeSamplerOptions = {}): Promise<ProcessTreeSampler> {
    const sampler = new ProcessTreeSampler(rootPid, options);
    if (!(await sampler.adopt(rootPid))) throw new Error(`process ${rootPid} is gone or cannot be read (/proc/${rootPid}/stat)`);
    return sampler;
  }

  /** The processes seen so far (the root first). */
  get processes(): readonly { pid: number; name: string }[] {
    return this.seen;
  }

  /** Reads every process of the tree; undefined once the whole tree has exited (or after close). */
  async read(): Promise<ProcessTreeReading | undefined> {
    if (this.closed) return undefined;
    const now = performance.now();
    if (now - this.lastDiscoveryMs >= (this.options.discoverEveryMs ?? 1000)) {
      this.lastDiscoveryMs = now;
      await this.discover();
    }
    let ticks = 0;
    let pages = 0;
    let processes = 0;
    await Promise.all(
      [...this.members.values()].map(async (member) => {
        const stat = await this.readStat(member);
        if (!stat) return void this.drop(member);
        ticks += Math.max(0, stat.cpuTicks - member.lastTicks);
        member.lastTicks = stat.cpuTicks;
        pages += stat.rssPages;
        processes++;
      }),
    );
    if (processes === 0) return undefined;
    const atMs = performance.now();
    const elapsedMs = this.lastReadingMs === undefined ? 0 : atMs - this.lastReadingMs;
    this.lastReadingMs = atMs;
    const cpuPercent = elapsedMs > 0 ? ((ticks / this.units.ticksPerSecond) * 1000 * 100) / elapsedMs : 0;
    return { atMs, cpuTicks: ticks, cpuPercent, rssBytes: pages * this.units.pageBytes, processes };
  }

  /** Clock ticks per second of this system (CPU figures are counted in them). */
  get ticksPerSecond(): number {
    return this.units.ticksPerSecond;
  }

  /** Closes every stat file. */
  async close(): Promise<void> {
    this.closed = true;
    const members = [...this.members.values()];
    this.members.clear();
    await Promise.all(members.map((member) => member.handle.close().catch(() => undefined)));
  }

  private async readStat(member: Member): Promise<ProcessStat | undefined> {
    try {
      const { bytesRead } = await member.handle.read(member.buffer, 0, member.buffer.length, 0);
      const stat = parseProcessStat(member.buffer.toString('latin1', 0, bytesRead));
      // The open file follows the process it was opened for: a gone process reads as an error.
      return stat && stat.startTicks === member.startTicks ? stat : undefined;
    } catch {
      return undefined;
    }
  }

  private drop(member: Member): void {
    if (this.members.get(member.pid) !== member) return;
    this.members.delete(member.pid);
    void member.handle.close().catch(() => undefined);
  }

  /** Opens a process's stat file and counts it in; false when it is gone or unreadable. */
  private async adopt(pid: number): Promise<boolean> {
    if (this.members.has(pid) || this.closed) return this.members.has(pid);
    let handle: FileHandle;
    try {
      handle = await open(`/proc/${pid}/stat`, 'r');
    } catch {
      return false;
    }
    const buffer = Buffer.alloc(1024);
    try {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      const stat = parseProcessStat(buffer.toString('latin1', 0, bytesRead));
      if (!stat || this.members.has(pid) || this.closed) throw new Error('gone');
      // The root's CPU before the run is not the run's; a descendant found later started
      // since the last look, so what it used so far is counted.
      const lastTicks = this.lastReadingMs === undefined ? stat.cpuTicks : 0;
      this.members.set(pid, { pid, name: stat.name, startTicks: stat.startTicks, handle, buffer, lastTicks });
      if (!this.seen.some((process) => process.pid === pid)) this.seen.push({ pid, name: stat.name });
      return true;
    } catch {
      await handle.close().catch(() => undefined);
      return false;
    }
  }

  /** Finds descendants not known yet. */
  private async discover(): Promise<void> {
    const children = await this.childrenByTask();
    const found = children ?? (await this.childrenByParentScan());
    await Promise.all(found.filter((pid) => !this.members.has(pid)).map((pid) => this.adopt(pid)));
    // A child's own children show up at the next look.
  }

  /** Children of every thread of every member; undefined when the kernel has no children files. */
  private async childrenByTask(): Promise<number[] | undefined> {
    const found: number[] = [];
    let supported = true;
    await Promise.all(
      [...this.members.keys()].map(async (pid) => {
        let tasks: string[];
        try {
          tasks = await readdir(`/proc/${pid}/task`);
        } catch {
          return;
        }
        await Promise.all(
          tasks.map(async (task) => {
            try {
              const text = await readFile(`/proc/${pid}/task/${task}/children`, 'latin1');
              for (const word of text.split(' ')) if (word.trim() !== '') found.push(Number(word));
            } catch (error) {
              if ((error as NodeJS.ErrnoException).code === 'ENOENT' && task === String(pid)) supported = false;
            }
          }),
        );
      }),
    );
    return supported ? found : undefined;
  }

  /** Every process whose parent is a member (the slow way: one stat per process on the system). */
  private async childrenByParentScan(): Promise<number[]> {
    const found: number[] = [];
    const names = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
    await Promise.all(
      names.map(async (name) => {
        try {
          const stat = parseProcessStat(await readFile(`/proc/${name}/stat`, 'latin1'));
          if (stat && this.members.has(stat.parentPid)) found.push(stat.pid);
        } catch {
          // Gone meanwhile.
        }
      }),
    );
    return found;
  }
}
