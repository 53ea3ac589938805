// A task that many signals may ask for: at most one run at a time, and every signal answered.

export interface Coalesced {
  /** Asks for a run: starts one now, or exactly one more after the run in flight. */
  poke(): void;
  /** Resolves when no run is in flight, the one asked for during the last included. */
  idle(): Promise<void>;
}

/**
 * Used where NOTIFY wake-ups and poll timers race (the event hub, the import worker): a burst of
 * signals during a run costs one extra run, not one run each, and no signal is lost.
 */
export function coalesce(task: () => Promise<void>, onError: (error: unknown) => void): Coalesced {
  let running: Promise<void> | null = null;
  let again = false;
  const poke = (): void => {
    if (running) {
      again = true;
      return;
    }
    running = task()
      .catch(onError)
      .finally(() => {
        running = null;
        if (again) {
          again = false;
          poke();
        }
      });
  };
  const idle = async (): Promise<void> => {
    while (running) await running;
  };
  return { poke, idle };
}

/** What a logged loop tells about each run (RepeatedFailureLog in src/log.ts). */
export interface RunLog {
  succeeded(): void;
  failed(error: unknown): void;
}

/** coalesce() for a background loop: each run's success or failure goes to `log`. */
export function coalesceLogged(task: () => Promise<unknown>, log: RunLog): Coalesced {
  return coalesce(
    () => task().then(() => log.succeeded()),
    (error) => log.failed(error),
  );
}

/**
 * A background pass run on start and then every `tickMs` (the importer's scheduler and
 * retention runner): runs never overlap, and stop() waits for the one in flight.
 */
export class PeriodicPass {
  private readonly pass: Coalesced;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    task: () => Promise<unknown>,
    log: RunLog,
    private readonly tickMs: number,
  ) {
    this.pass = coalesceLogged(task, log);
  }

  start(): void {
    this.timer = setInterval(() => this.pass.poke(), this.tickMs);
    this.timer.unref();
    this.pass.poke();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.pass.idle();
  }
}
