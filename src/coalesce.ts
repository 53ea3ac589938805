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
