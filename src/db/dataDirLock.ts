// One process per PGlite data directory: a lock file naming the holder's pid, taken at open.
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';

/** The lock file's name inside the data directory. */
export const LOCK_FILE = 'tagraph.lock';

/** What the lock file holds: enough to tell whether its holder still runs. */
interface Holder {
  pid: number;
  hostname: string;
  /** The holder's start time as /proc gives it (Linux), so a reused pid is not mistaken for it. */
  processStart: string | null;
  since: string;
}

/** The data directory is open in another live process. */
export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
  readonly code = 'DATA_DIR_LOCKED';
}

/** The lock files this process holds: what it wrote in each, and how many opens hold it. */
const held = new Map<string, { content: string; opens: number }>();
let releaseOnExit = false;

/**
 * Takes the lock of `dataDir`, or throws DataDirLockedError naming the live holder. A lock left
 * by a process that no longer runs (killed, crashed) is taken over. The returned function
 * releases it; it is also released when the process exits without closing the database.
 *
 * The lock is the process's: another open of the directory in the same process shares it (the
 * file goes with the last release). Only the server opens it in production; in-process test
 * apps started side by side on one directory do.
 */
export function lockDataDir(dataDir: string): () => void {
  const lockPath = join(resolve(dataDir), LOCK_FILE);
  const mineAlready = held.get(lockPath);
  if (mineAlready) {
    mineAlready.opens += 1;
    return releaser(lockPath);
  }
  const mine: Holder = {
    pid: process.pid,
    hostname: hostname(),
    processStart: processStart(process.pid),
    since: new Date().toISOString(),
  };
  const content = `${JSON.stringify(mine)}\n`;
  // Written aside, then linked into place: the lock file appears whole or not at all.
  const draft = `${lockPath}.${process.pid}.${Date.now()}`;
  writeFileSync(draft, content, { mode: 0o600 });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(draft, lockPath);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 5) throw error;
      }
      const found = readHolder(lockPath);
      if (found === 'gone') continue;
      if (found !== 'unreadable' && holderRuns(found)) {
        throw new DataDirLockedError(
          `the PGlite data directory ${dataDir} is in use by tagraph process ${found.pid} on ${found.hostname} (since ${found.since}): ` +
            `two processes on one PGlite data directory lose each other's writes. Stop that process first, or set DATABASE_URL to share a Postgres server between processes. ` +
            `If no such process runs, delete ${lockPath}.`,
        );
      }
      takeOverStale(lockPath, found, dataDir);
    }
  } finally {
    unlinkSync(draft);
  }
  held.set(lockPath, { content, opens: 1 });
  if (!releaseOnExit) {
    releaseOnExit = true;
    // process.exit() without closing the database (a failed shutdown) still releases the lock.
    process.on('exit', () => {
      for (const [path, lock] of held) removeIfMine(path, lock.content);
    });
  }
  return releaser(lockPath);
}

/** Releases one open of a held lock, once; the last one removes the file. */
function releaser(lockPath: string): () => void {
  let released = false;
  return () => {
    const lock = held.get(lockPath);
    if (released || !lock) return;
    released = true;
    lock.opens -= 1;
    if (lock.opens > 0) return;
    held.delete(lockPath);
    removeIfMine(lockPath, lock.content);
  };
}

/**
 * Moves a stale lock aside. Another starter may have replaced it since it was read: then the
 * file moved is that starter's live lock, which is put back (and the next attempt names it).
 */
function takeOverStale(lockPath: string, stale: Holder | 'unreadable', dataDir: string): void {
  const aside = `${lockPath}.stale.${process.pid}.${Date.now()}`;
  try {
    renameSync(lockPath, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const moved = readHolder(aside);
  const same =
    moved === stale ||
    (typeof moved === 'object' &&
      typeof stale === 'object' &&
      JSON.stringify(moved) === JSON.stringify(stale));
  if (!same) {
    try {
      linkSync(aside, lockPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  unlinkSync(aside);
  if (!same) return;
  if (stale === 'unreadable') return;
  process.emitWarning(
    `took over the lock of ${dataDir} from tagraph process ${stale.pid}, which no longer runs`,
  );
}

function readHolder(lockPath: string): Holder | 'gone' | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(lockPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as Partial<Holder>;
    if (typeof parsed.pid !== 'number' || typeof parsed.hostname !== 'string') return 'unreadable';
    return {
      pid: parsed.pid,
      hostname: parsed.hostname,
      processStart: typeof parsed.processStart === 'string' ? parsed.processStart : null,
      since: typeof parsed.since === 'string' ? parsed.since : 'unknown',
    };
  } catch {
    // Only a lock file written by hand or cut short by a full disk: no live holder wrote it whole.
    return 'unreadable';
  }
}

/**
 * Whether the holder may still run. On another host it cannot be checked, so it counts as
 * running. Its own pid in a process that does not hold the lock is a previous run's (a container
 * restarts with the same pid); a pid that now belongs to a process started at another time is
 * a reused one.
 */
function holderRuns(holder: Holder): boolean {
  if (holder.hostname !== hostname()) return true;
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: it runs, as another user.
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const start = processStart(holder.pid);
  return holder.processStart === null || start === null || start === holder.processStart;
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); null off Linux. */
function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count after its end.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

function removeIfMine(lockPath: string, content: string): void {
  try {
    if (readFileSync(lockPath, 'utf8') === content) unlinkSync(lockPath);
  } catch {
    // Already gone: nothing to release.
  }
}
