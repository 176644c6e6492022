/** Sizes in bytes as people write them. */

const UNITS = ["KiB", "MiB", "GiB", "TiB", "PiB"];

/**
 * A byte count in the largest binary unit that keeps it at 1 or more, with at most two decimals:
 * `512 MiB`, `1.5 GiB`, `100 B`. Binary units, since Docker's `--memory=512m` means 512 MiB.
 */
export function formatBytes(bytes: number): string {
  if (Math.abs(bytes) < 1024) return `${bytes} B`;
  let value = bytes;
  let unit = -1;
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  // Number() drops the zeros toFixed leaves: 1.50 reads 1.5, 512.00 reads 512.
  return `${Number(value.toFixed(2))} ${UNITS[unit]}`;
}
