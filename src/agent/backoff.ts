/** Capped exponential backoff with full jitter, so many agents do not retry in step. */
export class Backoff {
  private attempt = 0;

  constructor(private readonly baseMs: number, private readonly capMs: number) {}

  /** The delay before the next try; grows with each call until `reset`. */
  next(): number {
    const ceiling = Math.min(this.capMs, this.baseMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    return ceiling / 2 + Math.random() * ceiling / 2;
  }

  /** Starts over after a success. */
  reset(): void {
    this.attempt = 0;
  }
}
