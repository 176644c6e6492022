/** CPU time and memory of a process, read from /proc (Linux only). */

let clockTicks: number | undefined;

/** Clock ticks per second of /proc/PID/stat (`getconf CLK_TCK`, 100 on nearly every kernel). */
export async function clockTicksPerSecond(): Promise<number> {
  if (clockTicks !== undefined) return clockTicks;
  try {
    const out = await new Deno.Command("getconf", { args: ["CLK_TCK"], stderr: "null" }).output();
    const value = Number(new TextDecoder().decode(out.stdout).trim());
    clockTicks = Number.isInteger(value) && value > 0 ? value : 100;
  } catch {
    clockTicks = 100;
  }
  return clockTicks;
}

/** User plus system CPU time of a process so far, in clock ticks (utime + stime). */
export function cpuTicks(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // The command name may hold spaces and parentheses: fields are counted after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 of stat(5) are utime and stime; the slice starts at field 3.
  return Number(fields[11]) + Number(fields[12]);
}

/** A field of /proc/PID/status in bytes (`VmRSS`, `VmHWM`), as the kernel counts kB. */
export function statusBytes(pid: number, field: "VmRSS" | "VmHWM"): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status);
  if (match === null) throw new Error(`no ${field} for process ${pid}`);
  return Number(match[1]) * 1024;
}

/** Resident memory of a process now, in bytes. */
export function rssBytes(pid: number): number {
  return statusBytes(pid, "VmRSS");
}

/** Reads a pid file; undefined when it is missing or holds no number. */
export function readPidFile(path: string): number | undefined {
  try {
    const pid = Number(Deno.readTextFileSync(path).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
