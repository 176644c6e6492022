/** The engine's log times (RFC 3339, up to nanoseconds), which the agent and `launcher run` order. */

/** An RFC 3339 time as nanoseconds since the epoch. */
export function nanoseconds(time: string): bigint | undefined {
  const match = /^(.+T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(time);
  if (match === null) return undefined;
  const ms = Date.parse(`${match[1]}${match[3]}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt((match[2] ?? "").padEnd(9, "0"));
}
