/**
 * Secrets: values kept encrypted in the store (`secret_box.ts`), named by specs as
 * `{ secret: NAME }`, and put in only where a container is created: the desired list of the host
 * that runs it. Everything else (ps, diff, events, manifests) carries the reference.
 *
 * The stored spec hash covers the reference, not the value; what agents compare is the hash
 * handed out with the desired list, which for a spec with secrets mixes in the digest of each
 * value. So setting a new value changes the hash the agents see (they recreate the containers)
 * while `up`, `diff` and rollouts, which compare stored hashes, see no change; and a spec without
 * secrets hands out its stored hash unchanged.
 */
import { createHash } from "node:crypto";
import type { ContainerStatus, SecretInfo, SecretSetResult } from "../api/schemas.ts";
import { ConflictError, NotFoundError } from "../api/errors.ts";
import { SecretsDisabledError } from "../api/secrets.ts";
import { ManifestError } from "../manifest/manifest_error.ts";
import type { NormalizedSpec } from "../manifest/normalized.ts";
import type { Manifest } from "../manifest/schema.ts";
import { secretPath, secretsOf, secretUses } from "../manifest/secret_refs.ts";
import type { EventLog } from "./events.ts";
import type { SecretBox } from "./secret_box.ts";
import type { ContainerRow, SecretRow, Store } from "./store/store.ts";

/** What the secrets need of their owner. */
export interface SecretsOptions {
  store: Store;
  /** Encrypts and decrypts; without it (PostgreSQL without a key file) secrets are refused. */
  box?: SecretBox;
  events: EventLog;
  /** Moves the hosts' indexes in `tx`, waking their agents after the commit. */
  bump: (tx: Store, hosts: Iterable<string>) => Promise<void>;
  now: () => number;
}

/** The secrets a stored container's spec refers to (none for most). */
function rowSecrets(row: ContainerRow): string[] {
  // Most specs have none: skip the parse when the text cannot hold a reference.
  if (!row.normalized.includes('"secret"')) return [];
  return secretsOf(JSON.parse(row.normalized) as NormalizedSpec);
}

/** `manifest/name`, as lists of containers name them. */
function containerName(row: ContainerRow): string {
  return `${row.manifest}/${row.name}`;
}

/** The containers whose specs refer to each secret, by secret name. */
function usersBySecret(rows: ContainerRow[]): Map<string, ContainerRow[]> {
  const users = new Map<string, ContainerRow[]>();
  for (const row of rows) {
    for (const name of rowSecrets(row)) users.set(name, [...users.get(name) ?? [], row]);
  }
  return users;
}

/**
 * The hash agents see for a spec that refers to secrets: the stored hash with each secret's name
 * and digest. A secret that is missing counts as such, so its reappearance changes the hash too.
 */
function handedOutHash(specHash: string, digests: [string, string | undefined][]): string {
  const hash = createHash("sha256").update(specHash);
  // Callers pass names sorted and each once (`secretsOf`), so equal secrets give equal hashes.
  for (const [name, digest] of digests) {
    hash.update(`\n${name}=${digest ?? "missing"}`);
  }
  return hash.digest("hex");
}

/** The secrets of one transaction, read once when first needed. */
export class SecretReads {
  #rows: Promise<Map<string, SecretRow>> | undefined;

  constructor(private readonly tx: Store) {}

  /** One secret's row, as the transaction reads it. */
  get(name: string): Promise<SecretRow | undefined> {
    this.#rows ??= this.tx.allSecrets().then((rows) => new Map(rows.map((r) => [r.name, r])));
    return this.#rows.then((rows) => rows.get(name));
  }
}

/** Sets, lists and removes secrets; checks references at the door; resolves them for agents. */
export class Secrets {
  readonly #store: Store;
  readonly #box: SecretBox | undefined;
  readonly #events: EventLog;
  readonly #bump: SecretsOptions["bump"];
  readonly #now: () => number;

  constructor(options: SecretsOptions) {
    this.#store = options.store;
    this.#box = options.box;
    this.#events = options.events;
    this.#bump = options.bump;
    this.#now = options.now;
  }

  #requireBox(): SecretBox {
    if (this.#box === undefined) throw new SecretsDisabledError();
    return this.#box;
  }

  /**
   * Why a secret a manifest refers to cannot be used, by name (undefined: it can): what
   * `parseManifest` checks references against, so that each missing one is named with its line.
   * Read before the manifest's transaction; `check` runs again inside it.
   */
  async doorCheck(): Promise<(name: string) => string | undefined> {
    if (this.#box === undefined) return () => new SecretsDisabledError().message;
    const names = new Set((await this.#store.allSecrets()).map((row) => row.name));
    return (name) => names.has(name) ? undefined : missingMessage(name);
  }

  /**
   * Refuses a manifest that refers to a secret that does not exist (`ManifestError`, 400,
   * naming each variable), inside the transaction that would store it.
   */
  async check(tx: Store, manifest: Manifest): Promise<void> {
    const uses = secretUses(manifest);
    if (uses.length === 0) return;
    const reads = new SecretReads(tx);
    const details = [];
    for (const use of uses) {
      const message = this.#box === undefined
        ? new SecretsDisabledError().message
        : await reads.get(use.secret) === undefined
        ? missingMessage(use.secret)
        : undefined;
      if (message !== undefined) details.push({ path: secretPath(use), message });
    }
    if (details.length > 0) throw new ManifestError(details);
  }

  /**
   * Sets a secret (`actor` did it): makes it or replaces its value. A new value changes the hash
   * handed out for every container that refers to it, and wakes their agents, which recreate
   * them; the same value again changes nothing.
   */
  async set(name: string, value: string, actor: string): Promise<SecretSetResult> {
    const box = this.#requireBox();
    const digest = await box.digest(name, value);
    const sealed = await box.seal(name, value);
    return await this.#store.transaction(async (tx) => {
      const now = new Date(this.#now()).toISOString();
      const before = await tx.secret(name);
      await tx.putSecret({
        name,
        ...sealed,
        digest,
        created_at: before?.created_at ?? now,
        updated_at: now,
      });
      const changed = before?.digest !== digest;
      const users = changed ? usersBySecret(await tx.allContainers()).get(name) ?? [] : [];
      const live = users.filter((row) => row.desired !== "removed");
      await this.#bump(tx, new Set(live.map((row) => row.host).filter((host) => host !== "")));
      await this.#events.record(tx, [{
        kind: "secret",
        actor,
        action: "set",
        secret: name,
      }]);
      return {
        name,
        created: before === undefined,
        changed,
        recreated: before === undefined ? [] : live.map(containerName),
      };
    });
  }

  /** Every secret, without its value, with the manifests and containers that refer to it. */
  list(): Promise<SecretInfo[]> {
    return this.#store.transaction(async (tx) => {
      const users = usersBySecret(await tx.allContainers());
      return (await tx.allSecrets()).map((row) => {
        const rows = users.get(row.name) ?? [];
        return {
          name: row.name,
          createdAt: row.created_at,
          updatedAt: row.updated_at,
          manifests: [...new Set(rows.map((r) => r.manifest))],
          containers: rows.map(containerName),
        };
      });
    });
  }

  /**
   * Removes a secret (`actor` did it). Refused (409) while a stored container refers to it,
   * naming the manifests; unknown, 404.
   */
  remove(name: string, actor: string): Promise<void> {
    return this.#store.transaction(async (tx) => {
      if (await tx.secret(name) === undefined) throw new NotFoundError(`secret ${name} not found`);
      const rows = usersBySecret(await tx.allContainers()).get(name) ?? [];
      if (rows.length > 0) {
        const manifests = [...new Set(rows.map((row) => row.manifest))];
        throw new ConflictError(
          `secret ${name} is used by manifest${manifests.length === 1 ? "" : "s"} ` +
            `${manifests.join(", ")}: remove it from their specs (or take them down) first`,
        );
      }
      await tx.deleteSecret(name);
      await this.#events.record(tx, [{ kind: "secret", actor, action: "remove", secret: name }]);
    });
  }

  /**
   * The hash a stored container's agent sees: its stored hash, with the digests of its
   * secrets mixed in when it has any. Reports name this hash.
   */
  async handedOut(reads: SecretReads, row: ContainerRow): Promise<string> {
    const names = rowSecrets(row);
    if (names.length === 0) return row.spec_hash;
    const digests: [string, string | undefined][] = [];
    for (const name of names) digests.push([name, (await reads.get(name))?.digest]);
    return handedOutHash(row.spec_hash, digests);
  }

  /** Reads of the secrets of one transaction (`tx`), for `handedOut` and `resolve`. */
  reads(tx: Store): SecretReads {
    return new SecretReads(tx);
  }

  /**
   * Puts the values of their secrets into desired entries for their host's agent, and the hash
   * that goes with them. A secret that is missing stays a reference (the agent then fails that
   * container, saying which); one this key cannot decrypt throws `SecretDecryptError`.
   */
  async resolve(reads: SecretReads, entries: ContainerStatus[]): Promise<void> {
    for (const entry of entries) {
      const names = secretsOf(entry.normalized);
      if (names.length === 0) continue;
      const rows = new Map<string, SecretRow | undefined>();
      for (const name of names) rows.set(name, await reads.get(name));
      const environment = entry.normalized.environment;
      for (const [variable, value] of Object.entries(environment)) {
        const row = typeof value === "string" ? undefined : rows.get(value.secret);
        if (row !== undefined) {
          environment[variable] = await this.#requireBox().unseal(row.name, row);
        }
      }
      entry.specHash = handedOutHash(
        entry.specHash,
        names.map((name) => [name, rows.get(name)?.digest]),
      );
    }
  }
}

/** What a reference to a secret that does not exist is told. */
function missingMessage(name: string): string {
  return `secret ${name} does not exist: set it first with launcher secret set ${name}`;
}
