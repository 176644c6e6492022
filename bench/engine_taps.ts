/**
 * One socket tap per engine of the bed, opened when its agent is first started, so that every
 * engine call of every figure goes through a tap: the engine-call figure counts them and the
 * propagation figure times them, with no agent restart in between.
 */
import type { EngineHost } from "../tests/e2e/engines.ts";
import { type Cleanup, removeDirSync } from "./cleanup.ts";
import { SocketTap } from "./socket_tap.ts";

/** The taps of the bed, by host name. */
export class EngineTaps {
  readonly #taps = new Map<string, SocketTap>();
  readonly #dir: string;

  /** Makes the taps' folder; closing the taps and removing it is registered with `cleanup`. */
  constructor(cleanup: Cleanup) {
    // Short: a socket path has at most 108 bytes.
    this.#dir = Deno.makeTempDirSync({ prefix: "lbt-" });
    cleanup.add({
      name: "socket taps",
      run: async () => {
        this.#closeAll();
        await Deno.remove(this.#dir, { recursive: true });
      },
      emergency: () => {
        this.#closeAll();
        removeDirSync(this.#dir);
      },
    });
  }

  /** The address the agent of `host` is given: its tap, opened in front of the engine once. */
  dockerHost(host: EngineHost): string {
    let tap = this.#taps.get(host.name);
    if (tap === undefined) {
      const socket = `${this.#dir}/${this.#taps.size}.sock`;
      tap = SocketTap.listen(socket, new URL(host.dockerHost).pathname);
      this.#taps.set(host.name, tap);
    }
    return `unix://${tap.path}`;
  }

  /** The tap in front of `host`'s engine. */
  get(host: string): SocketTap {
    const tap = this.#taps.get(host);
    if (tap === undefined) throw new Error(`no socket tap for ${host}`);
    return tap;
  }

  #closeAll(): void {
    for (const tap of this.#taps.values()) tap.close();
  }
}
