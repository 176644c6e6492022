/**
 * A throwaway PostgreSQL cluster for tests (DESIGN.md section 7): `initdb` into a temp folder
 * owned by the `postgres` user, a server on a free port of 127.0.0.1 and a unix socket in that
 * folder, removed again by `stop()`.
 *
 * Authentication: `trust` on the unix socket (in a 0700 folder only `postgres` and root can
 * enter) and `scram-sha-256` with a random password on TCP, so that `url` exercises the
 * driver's password handshake as a production server would. Durability against a machine's crash
 * is off (`fsync`, `full_page_writes`): tests only, for speed. `synchronous_commit` stays on: a
 * commit then costs a write() without a flush, and `kill()` loses no committed transaction, as a
 * crash of PostgreSQL (not of the machine) would not; with it off, commits of the last few hundred
 * milliseconds were lost.
 *
 Starting one takes a second or two (initdb), a fresh database a tenth of that, so: one cluster
 * per test file, one database per test, and `stop()` in a `finally`, so that it goes also when a
 * test fails:
 *
 * ```ts
 * Deno.test("the store on PostgreSQL", async (t) => {
 *   const pg = await startPostgres();
 *   try {
 *     await t.step("applies a manifest", async () => {
 *       const url = await pg.createDatabase(); // postgres://postgres:...@127.0.0.1:PORT/t_...
 *       // ... connect, test, close every client ...
 *     });
 *   } finally {
 *     await pg.stop();
 *   }
 * });
 * ```
 *
 * PostgreSQL must be installed (`apt-get install -y postgresql`): without it `startPostgres`
 * throws, so a test fails rather than skips. initdb and pg_ctl refuse to run as root, so as root
 * they run as `postgres` (`runuser`); as another user they run as that user.
 *
 * The cluster holds no Deno resource between calls (the postmaster is pg_ctl's, not ours), so it
 * may span several tests under `--sanitize-ops --sanitize-resources`. A cluster left running
 * when the process ends is killed and removed on `unload`, and one left by a process that died
 * is swept by the next `startPostgres`.
 */
import { freePort, isAlive, run, signal } from "./processes.ts";

/** A running throwaway cluster. */
export interface PgCluster {
  /** `postgres://postgres:PASSWORD@127.0.0.1:PORT/launcher`: the database made at start. */
  url: string;
  port: number;
  /** The superuser's password (TCP only; the unix socket trusts). */
  password: string;
  /** The folder holding the unix socket (`.s.PGSQL.PORT`), the data and the server log. */
  socketDir: string;
  /** A new empty database `t_<random>` (or `name`); resolves with its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Runs SQL with psql over the unix socket as superuser; resolves with its unaligned output. */
  psql(sql: string, database?: string): Promise<string>;
  /**
   * Stops the server (`pg_ctl restart -m fast`, every connection is ended) and starts it again;
   * after `kill()`, starts it again. Resolves when it accepts connections.
   */
  restart(): Promise<void>;
  /**
   * A crash: SIGKILLs the postmaster and every process it started, and resolves when they are
   * gone. The server stays down until `restart()`, which then runs crash recovery.
   */
  kill(): Promise<void>;
  /** Stops the server (`pg_ctl stop -m fast`) and removes its folder; safe to call twice. */
  stop(): Promise<void>;
}

/** Where Debian's `postgresql` package puts each major version's programs. */
const PG_LIB = "/usr/lib/postgresql";
const DIR_PREFIX = "lt-pg-";
/**
 * Where clusters go: tmpfs when there is one, since on a busy disk removing a cluster's thousand
 * files took up to 2 s and initdb a second more; else the temp folder.
 */
const PARENTS = ["/dev/shm", Deno.env.get("TMPDIR") || "/tmp"];
/** pg_ctl's wait for start and stop; generous for a busy 2-core machine. */
const PG_CTL_TIMEOUT_S = 120;
const KILL_TIMEOUT_MS = 10_000;
const BIND_ATTEMPTS = 3;

/** Clusters started and not yet stopped, for the cleanup on unload. */
const live = new Set<string>();
let hooksInstalled = false;

/**
 * Creates and starts a cluster with a database `launcher`. On failure everything it made is
 * removed before the error is thrown.
 */
export async function startPostgres(): Promise<PgCluster> {
  const bin = findBinDir();
  installHooks();
  await sweepStale();
  const asOwner = await ownerRunner();
  const dir = await makeClusterDir();
  live.add(dir);
  const data = `${dir}/data`;
  const password = randomHex(16);
  let port = 0;
  try {
    await asOwner.chown(dir);
    const pwfile = `${dir}/pwfile`;
    await Deno.writeTextFile(pwfile, `${password}\n`);
    await asOwner.chown(pwfile);
    await asOwner.run(dir, `${bin}/initdb`, [
      "-D",
      data,
      "-U",
      "postgres",
      "--auth-local=trust",
      "--auth-host=scram-sha-256",
      `--pwfile=${pwfile}`,
      "--encoding=UTF8",
      "--locale=C",
      "--no-sync",
      "--no-instructions",
    ]);
    await Deno.remove(pwfile);
    const config = await Deno.readTextFile(`${data}/postgresql.conf`);
    // A port taken between freePort() and the bind fails the start: try another one.
    for (let attempt = 1;; attempt++) {
      port = freePort();
      await Deno.writeTextFile(`${data}/postgresql.conf`, config + settings(dir, port));
      try {
        await pgCtl(asOwner, bin, dir, ["start"]);
        break;
      } catch (error) {
        const log = await logTail(dir);
        if (attempt >= BIND_ATTEMPTS || !/could not bind|Address already in use/.test(log)) {
          throw error;
        }
      }
    }
  } catch (error) {
    await destroy(asOwner, bin, dir).catch(() => {});
    throw error;
  }

  const urlOf = (database: string) =>
    `postgres://postgres:${password}@127.0.0.1:${port}/${database}`;
  const psql = (sql: string, database = "postgres") =>
    run(`${bin}/psql`, [
      "-X",
      "-q",
      "-A",
      "-t",
      "-v",
      "ON_ERROR_STOP=1",
      "-h",
      dir,
      "-p",
      String(port),
      "-U",
      "postgres",
      "-d",
      database,
      "-c",
      sql,
    ]);
  let stopping: Promise<void> | undefined;
  const cluster: PgCluster = {
    url: urlOf("launcher"),
    port,
    password,
    socketDir: dir,
    createDatabase: async (name = `t_${randomHex(8)}`) => {
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`Invalid database name "${name}"`);
      await psql(`CREATE DATABASE ${name}`);
      return urlOf(name);
    },
    psql: (sql, database) => psql(sql, database),
    restart: async () => {
      if (stopping) throw new Error("The cluster is stopped");
      if (postmasterPid(dir) === undefined) {
        await removeCrashLeftovers(dir);
        await pgCtl(asOwner, bin, dir, ["start"]);
      } else {
        await pgCtl(asOwner, bin, dir, ["restart", "-m", "fast"]);
      }
    },
    kill: async () => {
      if (stopping) throw new Error("The cluster is stopped");
      await killServer(dir);
    },
    stop: () => {
      stopping ??= destroy(asOwner, bin, dir);
      return stopping;
    },
  };
  try {
    await psql("CREATE DATABASE launcher");
  } catch (error) {
    await cluster.stop().catch(() => {});
    throw error;
  }
  return cluster;
}

/** The newest major version's bin folder; throws when PostgreSQL is not installed. */
function findBinDir(): string {
  let majors: number[] = [];
  try {
    majors = [...Deno.readDirSync(PG_LIB)]
      .filter((entry) => /^\d+$/.test(entry.name))
      .map((entry) => Number(entry.name))
      .filter((major) => exists(`${PG_LIB}/${major}/bin/initdb`))
      .sort((a, b) => b - a);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  if (majors.length === 0) {
    throw new Error(
      `PostgreSQL is not installed: no ${PG_LIB}/<major>/bin/initdb (apt-get install -y postgresql)`,
    );
  }
  return `${PG_LIB}/${majors[0]}/bin`;
}

/** The server settings appended to postgresql.conf, so that pg_ctl restart keeps them. */
function settings(dir: string, port: number): string {
  return `
# launcher tests (tests/pg_cluster.ts)
port = ${port}
listen_addresses = '127.0.0.1'
unix_socket_directories = '${dir}'
fsync = off
full_page_writes = off
logging_collector = off
# In the data folder, not /dev/shm: a killed server's segments go with the folder.
dynamic_shared_memory_type = mmap
`;
}

/** How to run programs as the folder's owner: `postgres` when we are root, else ourselves. */
interface OwnerRunner {
  /** Runs a program in `cwd` (a folder the owner may enter: some programs insist). */
  run(cwd: string, command: string, args: string[]): Promise<string>;
  chown(path: string): Promise<void>;
}

async function ownerRunner(): Promise<OwnerRunner> {
  if (Deno.uid() !== 0) {
    return { run: (cwd, command, args) => run(command, args, cwd), chown: async () => {} };
  }
  let uid: number;
  let gid: number;
  try {
    uid = Number((await run("id", ["-u", "postgres"])).trim());
    gid = Number((await run("id", ["-g", "postgres"])).trim());
  } catch {
    throw new Error("PostgreSQL is not installed: there is no user postgres");
  }
  return {
    run: (cwd, command, args) => run("runuser", ["-u", "postgres", "--", command, ...args], cwd),
    chown: (path) => Deno.chown(path, uid, gid),
  };
}

function pgCtl(owner: OwnerRunner, bin: string, dir: string, args: string[]): Promise<string> {
  // -w: wait until the server accepts connections (or is gone); -l: its log, also for errors.
  return owner.run(dir, `${bin}/pg_ctl`, [
    ...args,
    "-D",
    `${dir}/data`,
    "-l",
    `${dir}/server.log`,
    "-w",
    "-t",
    String(PG_CTL_TIMEOUT_S),
    "-s",
  ]).catch(async (error) => {
    throw new Error(`${error instanceof Error ? error.message : error}\n${await logTail(dir)}`);
  });
}

/** Stops the server (gracefully if it runs, else kills what is left) and removes the folder. */
async function destroy(owner: OwnerRunner, bin: string, dir: string): Promise<void> {
  if (postmasterPid(dir) !== undefined) {
    await pgCtl(owner, bin, dir, ["stop", "-m", "fast"]).catch(() => killServer(dir));
  }
  await removeCrashLeftovers(dir).catch(() => {});
  await Deno.remove(dir, { recursive: true }).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
  live.delete(dir);
}

/**
 * SIGKILLs the postmaster and its children. The postmaster is stopped first so that it forks
 * no new child while they are listed. Its pid file stays, as after a real crash; a pid file
 * naming a zombie (nothing reaps orphans on some machines) would make the next start refuse, so
 * `restart()` removes it then.
 */
async function killServer(dir: string): Promise<void> {
  const pids = killTree(dir);
  const deadline = Date.now() + KILL_TIMEOUT_MS;
  while (pids.some(isAlive)) {
    if (Date.now() > deadline) throw new Error(`PostgreSQL in ${dir} did not die`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function killTree(dir: string): number[] {
  const pid = postmasterPid(dir);
  if (pid === undefined) return [];
  signal(pid, "SIGSTOP");
  const pids = [pid, ...childrenOf(pid)];
  for (const p of pids) signal(p, "SIGKILL");
  return pids;
}

/** The live postmaster's pid from its pid file, if it runs. */
function postmasterPid(dir: string): number | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(`${dir}/data/postmaster.pid`);
  } catch {
    return undefined;
  }
  const pid = Number(text.split("\n")[0]);
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}

/**
 * After a crash, the lock files name a dead postmaster, which a new one looks at: it refuses to
 * start while that pid exists, and on machines where nothing reaps orphans the dead postmaster
 * stays a zombie, whose pid exists. The files go, and with them the shared memory segment the
 * pid file names, which the new postmaster would otherwise have removed.
 */
async function removeCrashLeftovers(dir: string): Promise<void> {
  const pidFile = `${dir}/data/postmaster.pid`;
  const lines = await Deno.readTextFile(pidFile).then((text) => text.split("\n"), () => []);
  const shmId = lines[6]?.trim().split(/\s+/)[1];
  if (shmId && /^\d+$/.test(shmId)) await run("ipcrm", ["-m", shmId]).catch(() => {});
  const locks = [...Deno.readDirSync(dir)]
    .filter((entry) => /^\.s\.PGSQL\.\d+\.lock$/.test(entry.name))
    .map((entry) => `${dir}/${entry.name}`);
  for (const file of [pidFile, ...locks]) await Deno.remove(file).catch(() => {});
}

function childrenOf(parent: number): number[] {
  const children: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    const pid = Number(entry.name);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) === parent) children.push(pid);
    } catch {
      // The process ended while we looked.
    }
  }
  return children;
}

/** Kills and removes, synchronously, every cluster still live when the process ends. */
function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  globalThis.addEventListener("unload", () => {
    for (const dir of live) {
      killTree(dir);
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch {
        // Already gone, or a process still writes there: the next run's sweep tries again.
      }
    }
  });
}

/** A new folder named after this process, in the first of PARENTS that takes one. */
async function makeClusterDir(): Promise<string> {
  const prefix = `${DIR_PREFIX}${Deno.pid}-`;
  for (const parent of PARENTS.slice(0, -1)) {
    try {
      return await Deno.makeTempDir({ dir: parent, prefix });
    } catch {
      // No tmpfs here, or not writable: the next parent.
    }
  }
  return await Deno.makeTempDir({ dir: PARENTS[PARENTS.length - 1], prefix });
}

/** Removes clusters whose test process is gone (a crash, or SIGKILL, skips unload). */
async function sweepStale(): Promise<void> {
  for (const parent of PARENTS) {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(parent)];
    } catch {
      continue;
    }
    for (const entry of entries) {
      const owner = new RegExp(`^${DIR_PREFIX}(\\d+)-`).exec(entry.name);
      if (!entry.isDirectory || !owner || isAlive(Number(owner[1]))) continue;
      const dir = `${parent}/${entry.name}`;
      await killServer(dir).catch(() => {});
      await removeCrashLeftovers(dir).catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  }
}

async function logTail(dir: string): Promise<string> {
  try {
    const log = await Deno.readTextFile(`${dir}/server.log`);
    return log.trim().split("\n").slice(-5).join("\n");
  } catch {
    return "no server log";
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function randomHex(bytes: number): string {
  return [...crypto.getRandomValues(new Uint8Array(bytes))]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}
