/**
 * Everything the benchmark starts is registered here, so that it is undone in every way the run
 * can end: normally (`runAll`), on an error (the same, from a `finally`), and when the process is
 * ended by a signal or the watchdog (the synchronous `emergency` parts, from the unload event).
 */

/** One thing to undo: `run` in the normal path, `emergency` when there is no time to await. */
export interface CleanupTask {
  name: string;
  run: () => Promise<void>;
  /** Synchronous last resort (kill a process by id, remove a folder). */
  emergency?: () => void;
}

const RUN_TIMEOUT_MS = 30_000;

/** A stack of cleanup tasks, undone last-in first-out. */
export class Cleanup {
  readonly #tasks: CleanupTask[] = [];
  #hooked = false;

  /** Registers a task; returns a function that runs it now (once) and forgets it. */
  add(task: CleanupTask): () => Promise<void> {
    this.#hook();
    this.#tasks.push(task);
    return async () => {
      const at = this.#tasks.indexOf(task);
      if (at === -1) return;
      this.#tasks.splice(at, 1);
      await runBounded(task);
    };
  }

  /** Runs every task still registered, last first; failures are logged, not thrown. */
  async runAll(log: (line: string) => void): Promise<void> {
    while (this.#tasks.length > 0) {
      const task = this.#tasks.pop()!;
      try {
        await runBounded(task);
      } catch (error) {
        log(`cleanup of ${task.name} failed: ${error instanceof Error ? error.message : error}`);
        try {
          task.emergency?.();
        } catch {
          // Nothing more to try.
        }
      }
    }
  }

  /** Runs the emergency parts when the process ends without `runAll` (signal, watchdog). */
  #hook(): void {
    if (this.#hooked) return;
    this.#hooked = true;
    globalThis.addEventListener("unload", () => {
      for (const task of this.#tasks.reverse()) {
        try {
          task.emergency?.();
        } catch {
          // Keep going: the other tasks still need their turn.
        }
      }
      this.#tasks.length = 0;
    });
  }
}

/** Kills a process by id, ignoring one that is already gone. */
export function killPid(pid: number | undefined, signal: Deno.Signal = "SIGKILL"): void {
  if (pid === undefined) return;
  try {
    Deno.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/** Removes a folder and everything in it, ignoring one that is already gone. */
export function removeDirSync(path: string): void {
  try {
    Deno.removeSync(path, { recursive: true });
  } catch {
    // Already gone.
  }
}

async function runBounded(task: CleanupTask): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${task.name} took longer than ${RUN_TIMEOUT_MS} ms`)),
      RUN_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([task.run(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
