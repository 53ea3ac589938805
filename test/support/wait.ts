// Waiting on state the test can observe but not subscribe to: a bounded poll with a named deadline.

/**
 * Re-checks `condition` every `everyMs` until it holds; fails with `what` after `ms`. For state
 * with no event to wait on (a counter, a metric); never as a pause before something "should" happen.
 */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  ms = 5000,
  everyMs = 10,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
