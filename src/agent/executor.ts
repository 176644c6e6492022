/**
 * Runs one container's steps on the engine: every call under a deadline, each outcome written
 * into the engine view at once (so the next pass needs no engine call to know it), images pulled
 * only when the engine says it lacks them, and a container that never ran and cannot start
 * because of the engine's leftover state (after an engine restart) created again.
 */
import type { ContainerStatus } from "../api/schemas.ts";
import { createBody } from "./create_body.ts";
import type { Engine } from "../docker/engine.ts";
import { errorMessage, LauncherError } from "../errors.ts";
import type { Clock } from "../clock.ts";
import { withDeadline } from "./deadline.ts";
import type { EngineView } from "./engine_view.ts";
import { engineName, type Identity, ownLabels } from "./labels.ts";
import type { Step } from "./plan.ts";
import { CredentialHelperError, type CredentialLookup } from "./registry_auth.ts";

/** The image is not on the engine and the spec forbids pulling it. */
export class ImageAbsentError extends LauncherError {
  constructor(image: string, host: string) {
    super(
      "image_absent",
      `image ${image} is not on host ${host} and the spec says pull: never; load it on the host ` +
        `or change the pull policy`,
    );
  }
}

/** A failed step, naming the engine call that failed; the message is the engine's own. */
export class StepError extends LauncherError {
  constructor(readonly call: string, override readonly cause: unknown) {
    super(
      cause instanceof LauncherError ? cause.code : "engine_error",
      cause instanceof Error ? cause.message : String(cause),
    );
  }
}

/** What the executor needs. */
export interface ExecutorOptions {
  engine: Engine;
  clock: Clock;
  view: EngineView;
  me: () => Identity;
  /** The deadline of a non-streaming engine call. */
  engineTimeoutMs: number;
  /** The registry credentials of a pull (none: every pull goes without). */
  credentials?: CredentialLookup;
  /** Tells that a container's pull started or ended (it is reported as `pulling`). */
  pulling: (key: string, on: boolean) => void;
  /** Tells that what is known of a container changed, for its report. */
  changed: (key: string) => void;
  log: (line: string) => void;
}

/** The engine's stop timeout when a container sets none. */
const DEFAULT_STOP_SECONDS = 10;

/** Start errors that mean the engine kept state of a container that never ran (dockerd restart). */
const LEFTOVER = /already in use|already exists/i;

/** Executes steps for the reconciler. */
export class Executor {
  constructor(private readonly opts: ExecutorOptions) {}

  /** Runs one step; throws with the engine's message (or the deadline's) on failure. */
  async run(key: string, d: ContainerStatus | undefined, step: Step): Promise<void> {
    switch (step.op) {
      case "remove":
        await this.#remove(step.id);
        break;
      case "stop":
        await this.#settling(
          step.id,
          "exited",
          "stop",
          (id, s) => this.opts.engine.stopContainer(id, undefined, s),
          graceMs(d),
        );
        break;
      case "kill":
        await this.#settling(
          step.id,
          "exited",
          "kill",
          (id, s) => this.opts.engine.killContainer(id, s),
        );
        break;
      case "restart":
        await this.#settling(
          step.id,
          "running",
          "restart",
          (id, s) => this.opts.engine.restartContainer(id, undefined, s),
          graceMs(d),
        );
        break;
      case "start":
        await this.#start(key, d, step.id);
        break;
      case "create": {
        if (d === undefined) return;
        const id = await this.#create(key, d);
        if (step.start) await this.#start(key, d, id);
        break;
      }
    }
    this.opts.changed(key);
  }

  async #remove(id: string): Promise<void> {
    await this.#call("remove", (s) => this.opts.engine.removeContainer(id, { force: true }, s));
    this.opts.view.removed(id);
  }

  /** A call that leaves the container in `state`, written into the view once it answers. */
  async #settling(
    id: string,
    state: "running" | "exited",
    what: string,
    call: (id: string, signal: AbortSignal) => Promise<void>,
    extraMs = 0,
  ): Promise<void> {
    const since = this.opts.view.version;
    await this.#call(what, (s) => call(id, s), extraMs);
    this.opts.view.settled(id, state, since);
  }

  async #start(key: string, d: ContainerStatus | undefined, id: string): Promise<void> {
    const { view } = this.opts;
    const since = view.version;
    const neverRan = view.get(id)?.state === "created";
    try {
      await this.#call("start", (s) => this.opts.engine.startContainer(id, s));
    } catch (error) {
      if (d === undefined || !neverRan || !LEFTOVER.test(errorMessage(error))) throw error;
      this.opts.log(
        `${key}: the engine kept state of a container that never ran; creating it again`,
      );
      // Starting it again fails the same way; a new container does not (moby keeps the old
      // task's id after an unclean restart).
      await this.#remove(id);
      this.opts.changed(key);
      const fresh = await this.#create(key, d);
      return await this.#start(key, undefined, fresh);
    }
    view.settled(id, "running", since);
  }

  /** Creates a container, pulling its image as the spec's pull policy says. */
  async #create(key: string, d: ContainerStatus): Promise<string> {
    const { engine, view } = this.opts;
    const name = engineName(d.manifestName, d.config.name);
    const labels = ownLabels(this.opts.me(), d.manifestName, d.config.name, d.specHash);
    const body = createBody(d.normalized, labels);
    const policy = d.normalized.pull ?? "missing";
    if (policy === "always") await this.#pull(key, d.normalized.image);
    let id: string;
    try {
      id = await this.#call("create", (s) => engine.createContainer(name, body, s));
    } catch (error) {
      // Asking first would cost a call per create; the engine says so when it lacks the image.
      // Matched by code: the Docker adapter is loaded lazily, never by client commands.
      const cause = error instanceof StepError ? error.cause : error;
      if (!(cause instanceof LauncherError && cause.code === "not_found")) throw error;
      if (policy === "never") {
        throw new StepError(
          "create",
          new ImageAbsentError(d.normalized.image, this.opts.me().host),
        );
      }
      await this.#pull(key, d.normalized.image);
      id = await this.#call("create", (s) => engine.createContainer(name, body, s));
    }
    view.created(id, name, body.Labels ?? labels);
    this.opts.changed(key);
    return id;
  }

  /** Pulls an image, with its registry's credentials when the host's Docker config holds some. */
  async #pull(key: string, image: string): Promise<void> {
    this.opts.pulling(key, true);
    try {
      const { auth, helperNote } = await this.opts.credentials?.(image) ?? {};
      try {
        await this.opts.engine.pullImage(image, undefined, auth);
      } catch (error) {
        throw helperNote === undefined ? error : new CredentialHelperError(error, helperNote);
      }
    } catch (error) {
      throw new StepError("pull", error);
    } finally {
      this.opts.pulling(key, false);
    }
  }

  /** One engine call under the deadline (plus `extraMs` for calls that wait on purpose). */
  async #call<T>(
    what: string,
    call: (signal: AbortSignal) => Promise<T>,
    extraMs = 0,
  ): Promise<T> {
    try {
      return await withDeadline(this.opts.clock, this.opts.engineTimeoutMs + extraMs, what, call);
    } catch (error) {
      throw error instanceof StepError ? error : new StepError(what, error);
    }
  }
}

/**
 * How long a stop may take on top of the call's deadline: the spec's stop timeout, or the
 * engine's default for a container whose spec is not known (an orphan) or sets none.
 */
function graceMs(d: ContainerStatus | undefined): number {
  return (d?.normalized.stopTimeout ?? DEFAULT_STOP_SECONDS) * 1000;
}
