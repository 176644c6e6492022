/**
 * A pass-through Unix socket in front of a Docker engine's socket that notes the time of every
 * HTTP request line going through it. An agent pointed at the tap (`--docker-host`) shows when
 * it made each engine call, which the engine's own events only show once the call has finished,
 * and how many calls it made.
 */

/** One request seen on the way to the engine. */
export interface TappedRequest {
  /** Wall-clock milliseconds (see stats.ts `now`). */
  time: number;
  method: string;
  path: string;
}

const REQUEST_LINE = /(GET|POST|PUT|DELETE|HEAD) (\/\S*) HTTP\/1\.[01]\r\n/g;
/** How much of an unfinished line is carried into the next read: more than any request line. */
const CARRY_MAX = 8192;

/** A request path without the API version prefix and the query: `/containers/json`. */
export function shortPath(path: string): string {
  return path.replace(/^\/v[\d.]+/, "").replace(/\?.*$/, "");
}

/** A running tap. */
export class SocketTap {
  readonly requests: TappedRequest[] = [];
  readonly #listener: Deno.Listener;
  readonly #conns = new Set<Deno.Conn>();

  private constructor(
    listener: Deno.Listener,
    /** The tap's own socket. */
    readonly path: string,
    private readonly target: string,
  ) {
    this.#listener = listener;
    this.#accept();
  }

  /** Listens on `path` and forwards every connection to the socket at `target`. */
  static listen(path: string, target: string): SocketTap {
    return new SocketTap(Deno.listen({ transport: "unix", path }), path, target);
  }

  /** Stops listening and closes every forwarded connection. */
  close(): void {
    try {
      this.#listener.close();
    } catch {
      // Closed already.
    }
    for (const conn of this.#conns) closeQuietly(conn);
    this.#conns.clear();
  }

  async #accept(): Promise<void> {
    try {
      for await (const client of this.#listener) this.#forward(client);
    } catch {
      // The listener was closed.
    }
  }

  async #forward(client: Deno.Conn): Promise<void> {
    let engine: Deno.Conn;
    try {
      engine = await Deno.connect({ transport: "unix", path: this.target });
    } catch {
      closeQuietly(client);
      return;
    }
    this.#conns.add(client).add(engine);
    const decoder = new TextDecoder("latin1");
    // Node writes a request's head in one piece, but a read may still end inside it: the tail
    // after the last line break goes in front of the next read, so no call is missed. A line is
    // noted when it is complete; a counted line ends with a break, so it is never carried.
    let carry = "";
    const note = new TransformStream<Uint8Array, Uint8Array>({
      transform: (chunk, controller) => {
        const time = performance.timeOrigin + performance.now();
        const text = carry + decoder.decode(chunk);
        for (const match of text.matchAll(REQUEST_LINE)) {
          this.requests.push({ time, method: match[1], path: match[2] });
        }
        const lineEnd = text.lastIndexOf("\r\n");
        carry = (lineEnd === -1 ? text : text.slice(lineEnd + 2)).slice(-CARRY_MAX);
        controller.enqueue(chunk);
      },
    });
    await Promise.allSettled([
      client.readable.pipeThrough(note).pipeTo(engine.writable),
      engine.readable.pipeTo(client.writable),
    ]);
    for (const conn of [client, engine]) {
      closeQuietly(conn);
      this.#conns.delete(conn);
    }
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Closed already.
  }
}
