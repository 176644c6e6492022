/**
 * The store: where the server keeps manifests, containers, host indexes and hosts, events, token
 * hashes, rollouts, manifest revisions, encrypted secrets and web UI sessions. `Store` is the contract every implementation meets
 * (SQLite, embedded, in `sqlite_store.ts`; PostgreSQL for several servers, in `postgres_store.ts`),
 * and `tests/store/contract.ts` holds them to it. Every statement is asynchronous, since PostgreSQL's
 * drivers are; rows keep SQLite's column names and types (`rows.ts`). Opening a store brings its
 * schema up to date (`migrate.ts`).
 */
import type {
  ContainerRow,
  ContainerStateRow,
  EventQuery,
  EventRow,
  HostCountRow,
  HostIndexRow,
  HostRow,
  ManifestRow,
  RevisionEntryRow,
  RevisionRow,
  RolloutRow,
  SecretRow,
  SessionRow,
  StateCountRow,
  TokenRow,
} from "./rows.ts";
import type { Migrated } from "./versions.ts";
import { isPostgresUrl } from "./postgres_url.ts";
import { SqliteStore } from "./sqlite_store.ts";
import type { StoreOptions } from "./transaction_timing.ts";

export type * from "./rows.ts";
export type { Migrated } from "./versions.ts";
export { StoreTooNewError } from "./versions.ts";
export { StoreOpenError } from "./open_error.ts";
export { isPostgresUrl } from "./postgres_url.ts";
export { TransactionMisuseError } from "./transaction_scope.ts";
export type { StoreOptions, TransactionOutcome } from "./transaction_timing.ts";

/** Manifests and their containers. Lists come in the order each method names. */
export interface ContainerStore {
  /** Whether a manifest row exists. */
  hasManifest(name: string): Promise<boolean>;
  /** Creates a manifest row, or refreshes its policy and `updated_at`. */
  upsertManifest(name: string, policy: string, now: string): Promise<void>;
  /** One manifest row. */
  manifest(name: string): Promise<ManifestRow | undefined>;
  /** Deletes a manifest row once none of its containers is left. */
  deleteManifestIfEmpty(name: string): Promise<void>;
  /** Every manifest row, by name. */
  allManifests(): Promise<ManifestRow[]>;
  /** Placed instances waiting for a host (host ""), not being removed; by manifest then name. */
  unplacedContainers(): Promise<ContainerRow[]>;
  /** Every placed instance (`template` not ""), wherever it is; by manifest then name. */
  placedContainers(): Promise<ContainerRow[]>;
  /** The hosts placed instances not being removed are on (not ""), each once, by name. */
  placedHosts(): Promise<string[]>;
  /** Instances that replace another one (`replaces` not ""); by manifest then name. */
  replacingContainers(): Promise<ContainerRow[]>;
  /** Containers of one manifest, by name. */
  containersOfManifest(manifest: string): Promise<ContainerRow[]>;
  /** Every container, by manifest then name. */
  allContainers(): Promise<ContainerRow[]>;
  /** Every container's state without its spec, by manifest then name. */
  containerStates(): Promise<ContainerStateRow[]>;
  /** Containers placed on one host, by manifest then name. */
  containersOfHost(host: string): Promise<ContainerRow[]>;
  /**
   * Containers placed on any of `hosts`, by host, manifest then name: what `containersOfHost`
   * answers for each, in one read (the long-polls woken by one commit are answered together).
   */
  containersOfHosts(hosts: readonly string[]): Promise<ContainerRow[]>;
  /** Containers with one name on one host, across manifests, by manifest. */
  containersByHostAndName(host: string, name: string): Promise<ContainerRow[]>;
  /** One container by its key (manifest, name). */
  container(manifest: string, name: string): Promise<ContainerRow | undefined>;
  /** Inserts a new container row; its manifest row must exist. */
  insertContainer(row: ContainerRow): Promise<void>;
  /** Inserts new container rows, as `insertContainer` does each, in one statement. */
  insertContainers(rows: readonly ContainerRow[]): Promise<void>;
  /** Writes every column of an existing container row but its key and `created_at`. */
  updateContainer(row: ContainerRow): Promise<void>;
  /** Deletes one container row. */
  deleteContainer(manifest: string, name: string): Promise<void>;
  /** Per host with containers, by host: how many are running and how many there are. */
  hostCounts(): Promise<HostCountRow[]>;
  /** Per host and state with containers, by host then state: how many are in it (one read). */
  stateCounts(): Promise<StateCountRow[]>;
}

/**
 * Host indexes: each bump takes the next value of one global counter, so an index never goes
 * back, even for a host that was forgotten and came back.
 */
export interface IndexStore {
  /** A host's index; 0 for a host nothing was ever planned on. */
  hostIndex(host: string): Promise<number>;
  /** The indexes of those of `hosts` that have one, by name (a host missing from it has 0). */
  hostIndexes(hosts: readonly string[]): Promise<HostIndexRow[]>;
  /**
   * Sets a host's index to the next value of the global counter and returns it. Two transactions
   * bumping at once must both count (PostgreSQL: lock the counter's row, or update it in place).
   */
  bumpHostIndex(host: string): Promise<number>;
  /**
   * `bumpHostIndex` for each of `hosts` (each once), in the order given, in one statement: each
   * gets its own next value of the counter. Answers the hosts with their new indexes, in order.
   */
  bumpHostIndexes(hosts: readonly string[]): Promise<HostIndexRow[]>;
}

/** What agents registered about their hosts (`host_info`), and draining. */
export interface HostStore {
  /** What is known of one host beyond its index, if anything. */
  hostInfo(name: string): Promise<HostRow | undefined>;
  /** The rows of those of `names` that have one, by name. */
  hostInfos(names: readonly string[]): Promise<HostRow[]>;
  /** Every host with a `host_info` row, by name. */
  allHostInfo(): Promise<HostRow[]>;
  /** Writes every column of a host's row, creating it when missing. */
  upsertHostInfo(row: HostRow): Promise<void>;
  /** Records when a host's agent was last seen; nothing happens for a host without a row. */
  touchHostInfo(name: string, now: string): Promise<void>;
  /** `touchHostInfo` for each of `names`, in one statement. */
  touchHostInfos(names: readonly string[], now: string): Promise<void>;
  /** Forgets a host's row (its index is kept, so it never goes back). */
  deleteHostInfo(name: string): Promise<void>;
}

/** The event history; ids grow and are never reused, also after a prune. */
export interface EventStore {
  /** Records an event and returns its id. */
  insertEvent(row: Omit<EventRow, "id">): Promise<number>;
  /** Records events in the order given, in one statement; answers the last one's id (0: none). */
  insertEvents(rows: readonly Omit<EventRow, "id">[]): Promise<number>;
  /** The first `limit` events after `after`, by id. */
  firstEvents(query: EventQuery): Promise<EventRow[]>;
  /** The last `limit` events after `after`, by id. */
  lastEvents(query: EventQuery): Promise<EventRow[]>;
  /** The id of the last event ever recorded, pruned or not (0: none yet). */
  lastEventId(): Promise<number>;
  /** How many events are stored. */
  countEvents(): Promise<number>;
  /** Deletes up to `limit` events older than `cutoff` (ISO time); returns how many. */
  pruneEventsBefore(cutoff: string, limit: number): Promise<number>;
  /** Deletes up to `limit` of the oldest events beyond the newest `keep`; returns how many. */
  pruneEventsBeyond(keep: number, limit: number): Promise<number>;
}

/** Tokens: only their hashes are stored. */
export interface TokenStore {
  /** Stores a new token (its hash, never the token). */
  insertToken(row: TokenRow): Promise<void>;
  /** The token with this hash, revoked or expired ones included. */
  tokenByHash(hash: string): Promise<TokenRow | undefined>;
  /** The token with this id, revoked or expired ones included. */
  tokenById(id: string): Promise<TokenRow | undefined>;
  /** Every token, oldest first (by creation time, then insertion). */
  allTokens(): Promise<TokenRow[]>;
  /** Records when a token was last used. */
  touchToken(id: string, now: string): Promise<void>;
  /** Marks a token revoked; false when no token has this id. */
  revokeToken(id: string): Promise<boolean>;
}

/** Rollouts: at most one per manifest, the one in progress or the last one. */
export interface RolloutStore {
  /** The rollout of a manifest, in progress or last. */
  rollout(manifest: string): Promise<RolloutRow | undefined>;
  /** Rollouts in progress (`status` running), by manifest. */
  activeRollouts(): Promise<RolloutRow[]>;
  /** Every manifest's rollout, in progress or last, by manifest. */
  allRollouts(): Promise<RolloutRow[]>;
  /** Writes a manifest's rollout, replacing the one it had. */
  putRollout(row: RolloutRow): Promise<void>;
}

/** Revisions: each accepted version of a manifest, kept after its down. */
export interface RevisionStore {
  /** Stores a revision; its number must be new for its manifest. */
  insertRevision(row: RevisionRow): Promise<void>;
  /** The number of a manifest's latest revision (0: none yet). */
  latestRevision(manifest: string): Promise<number>;
  /** A manifest's revisions, newest first, without their texts. */
  revisionsOf(manifest: string): Promise<RevisionEntryRow[]>;
  /** One revision of a manifest, with its text. */
  revision(manifest: string, number: number): Promise<RevisionRow | undefined>;
}

/** Secrets, encrypted; and the check that tells whether a key is the one they were written with. */
export interface SecretStore {
  /** Every secret, by name. */
  allSecrets(): Promise<SecretRow[]>;
  /** One secret. */
  secret(name: string): Promise<SecretRow | undefined>;
  /** Writes a secret, replacing the one of its name (whose `created_at` is kept). */
  putSecret(row: SecretRow): Promise<void>;
  /** Deletes a secret; false when none has this name. */
  deleteSecret(name: string): Promise<boolean>;
  /** The check value of the key secrets are encrypted with (undefined: no key was ever used). */
  secretKeyCheck(): Promise<string | undefined>;
  /** Records the check value of the key, once: an existing one is kept. */
  setSecretKeyCheck(check: string): Promise<void>;
}

/**
 * Web UI sessions, by the hash of their cookie's id; each belongs to a token (deleting the token
 * deletes them).
 */
export interface SessionStore {
  /** Stores a new session; its token must exist. */
  insertSession(row: SessionRow): Promise<void>;
  /** The session with this id hash, expired ones included. */
  sessionByHash(idHash: string): Promise<SessionRow | undefined>;
  /** Records when a session was last used. */
  touchSession(idHash: string, now: string): Promise<void>;
  /** Deletes a session; false when none has this id hash. */
  deleteSession(idHash: string): Promise<boolean>;
  /** Deletes every session of a token; returns how many. */
  deleteSessionsOfToken(tokenId: string): Promise<number>;
  /**
   * Deletes the sessions last used at or before `usedBy`, made at or before `madeBy`, or whose
   * token is revoked or expired at `now` (ISO times); returns how many.
   */
  pruneSessions(usedBy: string, madeBy: string, now: string): Promise<number>;
  /** Deletes the least recently used sessions beyond the newest `keep`; returns how many. */
  pruneSessionsBeyond(keep: number): Promise<number>;
}

/**
 * What `launcher store copy` (`copy.ts`) needs beyond the other statements: reads of what no other
 * statement lists, and writes that keep what the others make anew (ids, times, counters). Only
 * for copying into a new, empty store; nothing else calls them.
 */
export interface CopyStore {
  /** Every host's index, by name (hosts forgotten by `host_info` included). */
  allHostIndexes(): Promise<HostIndexRow[]>;
  /** The global index counter: the value the last bump took (0: none yet). */
  indexCounter(): Promise<number>;
  /** Every revision with its text, of manifests downed too; by manifest, then number. */
  allRevisions(): Promise<RevisionRow[]>;
  /** Inserts a manifest row as it is, its creation time included. */
  copyManifest(row: ManifestRow): Promise<void>;
  /** Inserts a host's index as it is. */
  copyHostIndex(row: HostIndexRow): Promise<void>;
  /** Raises the global index counter to `value` (never lowers it): the next bump goes above. */
  copyIndexCounter(value: number): Promise<void>;
  /**
   * Replaces the installation's id. `clusterId()` reads it when the store opens: a store that
   * was copied into is closed, and the servers open it afterwards.
   */
  copyClusterId(id: string): Promise<void>;
  /** Inserts an event with its id. */
  copyEvent(row: EventRow): Promise<void>;
  /**
   * Makes `id` the last event id ever recorded (when higher than the last one): `lastEventId`
   * answers it, and the next event's id comes after it, as it would in the source.
   */
  copyLastEventId(id: number): Promise<void>;
}

/** Every statement of the store. */
export interface StoreStatements
  extends
    ContainerStore,
    IndexStore,
    HostStore,
    EventStore,
    TokenStore,
    RolloutStore,
    RevisionStore,
    SecretStore,
    SessionStore,
    CopyStore {}

/**
 * The store, or one transaction of it: both have every statement. A statement on the store
 * outside a transaction is a transaction of its own. A disk or database that is full fails a
 * write with `StorageFullError`.
 */
export interface Store extends StoreStatements {
  /** Where the store is, for messages: the SQLite file (a database's address, never a password). */
  readonly location: string;

  /** What opening did to the schema (the migrations it ran): the version found and the one now. */
  readonly migrated: Migrated;

  /**
   * This installation's id, made when the store was first created: agents label what they create
   * with it and leave containers of other installations alone. Read once, when the store opens.
   */
  clusterId(): string;

  /**
   * Runs `fn` in one transaction and hands it `tx`, the transaction's own handle: every statement
   * of the transaction goes through `tx`, never through the store (which refuses to be used from
   * inside one of its transactions, with `TransactionMisuseError`: on SQLite that would wait for
   * the transaction forever, on PostgreSQL it would take another connection). It commits when
   * `fn` resolves, rolls back when it rejects, and answers or rethrows what `fn` (or the commit)
   * did. `tx.transaction` joins the transaction it belongs to, so helpers compose. Transactions
   * are serialisable against each other: two that read and then write the same row both count.
   * The reads of one transaction see one state of the store (PostgreSQL: REPEATABLE READ or
   * stricter), which is why the server reads what must agree (an index with its containers) in one.
   * `fn` may be run again after a serialisation failure (PostgreSQL): it keeps its effects to the
   * store, to what it answers, and to what it hands `onCommit`.
   */
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T>;

  /**
   * Runs `fn` once the transaction this handle belongs to has committed, before `transaction`
   * answers; never when it rolls back. For wake-ups of what waits on the change (long-polls),
   * which must not see it early; `fn` must not throw. Throws `TransactionMisuseError` on the store
   * itself, outside a transaction.
   */
  onCommit(fn: () => void): void;

  /**
   * Runs a bookkeeping write that reads make on the side (a last-seen or last-used time): on a
   * full disk it is skipped, and false says so, since a read must not fail for it. Inside a
   * transaction nothing is skipped: the whole transaction may have been rolled back, and the
   * writes after it would then be applied alone.
   */
  bestEffort(write: () => Promise<unknown>): Promise<boolean>;

  /**
   * Waits for the transactions in progress, then closes the store; it is unusable afterwards.
   * Closing again does nothing. Refused inside a transaction.
   */
  close(): Promise<void>;
}

/**
 * Opens the store at `location`: a `postgres://` or `postgresql://` URL opens that PostgreSQL
 * database (`postgres_store.ts`, loaded only then); anything else is a data dir, which must exist,
 * holding the SQLite file `launcher.db`. Either is created and migrated when needed. Throws
 * `StoreTooNewError` when a newer launcher wrote it, and `StoreOpenError` when it cannot be opened
 * or brought up to date. `options.onTransaction` hears how long each transaction took.
 */
export async function openStore(location: string, options: StoreOptions = {}): Promise<Store> {
  if (isPostgresUrl(location)) {
    const { PostgresStore } = await import("./postgres_store.ts");
    return await PostgresStore.open(location, options);
  }
  return new SqliteStore(location, options);
}
