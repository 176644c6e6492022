/**
 * Counts the agent's failed engine calls, for the figures it sends with its reports: an engine
 * wrapped so that every call that rejects counts once. `not_found` is an answer the agent acts
 * on (no such image: pull it), not a failure. Streams (events, logs) are not counted: the
 * watcher reconnects, and the calls after a lost engine fail and count.
 */
import type { Engine } from "../docker/engine.ts";
import { LauncherError } from "../errors.ts";

/** An engine that counts its failed calls; everything else is the wrapped engine's. */
export class CountingEngine implements Engine {
  readonly #engine: Engine;
  #errors = 0;

  constructor(engine: Engine) {
    this.#engine = engine;
  }

  /** How many calls failed since this engine was made. */
  get errors(): number {
    return this.#errors;
  }

  get dockerHost(): string {
    return this.#engine.dockerHost;
  }

  version: Engine["version"] = (...a) => this.#count(this.#engine.version(...a));
  info: Engine["info"] = (...a) => this.#count(this.#engine.info(...a));
  listContainers: Engine["listContainers"] = (...a) =>
    this.#count(this.#engine.listContainers(...a));
  inspectContainer: Engine["inspectContainer"] = (...a) =>
    this.#count(this.#engine.inspectContainer(...a));
  pullImage: Engine["pullImage"] = (...a) => this.#count(this.#engine.pullImage(...a));
  createContainer: Engine["createContainer"] = (...a) =>
    this.#count(this.#engine.createContainer(...a));
  startContainer: Engine["startContainer"] = (...a) =>
    this.#count(this.#engine.startContainer(...a));
  stopContainer: Engine["stopContainer"] = (...a) => this.#count(this.#engine.stopContainer(...a));
  killContainer: Engine["killContainer"] = (...a) => this.#count(this.#engine.killContainer(...a));
  restartContainer: Engine["restartContainer"] = (...a) =>
    this.#count(this.#engine.restartContainer(...a));
  removeContainer: Engine["removeContainer"] = (...a) =>
    this.#count(this.#engine.removeContainer(...a));
  events: Engine["events"] = (...a) => this.#engine.events(...a);
  logs: Engine["logs"] = (...a) => this.#engine.logs(...a);

  /** Counts `call` when it rejects with anything but `not_found`; answers it as it is. */
  #count<T>(call: Promise<T>): Promise<T> {
    call.catch((error) => {
      if (!(error instanceof LauncherError && error.code === "not_found")) this.#errors++;
    });
    return call;
  }
}
