/** Waiting on a condition instead of sleeping: tests assert outcomes, not durations. */

/**
 * Resolves once `check` holds, looking again after every turn of the event loop; fails after
 * `timeoutMs` (generous: a loaded machine is slow, not wrong) naming what it waited for.
 */
export async function until(what: string, check: () => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
