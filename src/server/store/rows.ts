/**
 * The rows the store reads and writes, one type per table, and their column lists, the same in
 * every implementation. A column added to a table is added here twice (its type and its list); the
 * statements of every implementation list columns from these lists.
 */

/** One stored manifest: its name and when it was first and last applied. */
export interface ManifestRow {
  name: string;
  /** JSON of the manifest's policies: `{update?, rescheduleAfterMs?}` (`{}` when it sets none). */
  policy: string;
  created_at: string;
  updated_at: string;
}

/** One stored container: its spec (as JSON), where it runs, what is desired and observed. */
export interface ContainerRow {
  manifest: string;
  name: string;
  host: string;
  spec: string;
  spec_hash: string;
  desired: string;
  state: string;
  container_id: string | null;
  exit_code: number | null;
  error: string | null;
  health: string | null;
  generation: number;
  restart_generation: number;
  /** 1 when `container rm` asked for a removal without a graceful stop. */
  force: number;
  /** The spec parsed once at the door (JSON of a NormalizedSpec). */
  normalized: string;
  /** The spec a placed instance belongs to (`web` of `web.2`); "" for a pinned container. */
  template: string;
  /** JSON of a placed instance's Placement; "" for a pinned container. */
  placement: string;
  /**
   * The instance this one replaces (a drain or a start-first update): it is removed once this
   * one runs. "" for none.
   */
  replaces: string;
  created_at: string;
  updated_at: string;
}

/**
 * What the server knows of one host beyond its index: what its agent registered (null until it
 * does), when it was last seen, and whether it is draining.
 */
export interface HostRow {
  name: string;
  engine_version: string | null;
  os: string | null;
  arch: string | null;
  cpus: number | null;
  memory: number | null;
  agent_version: string | null;
  /** A JSON object of label keys to values. */
  labels: string;
  interval_ms: number | null;
  registered_at: string | null;
  last_seen: string | null;
  /** 1 while draining. */
  draining: number;
}

/** A host's index (`hosts`): the value of the global counter its last bump took. */
export interface HostIndexRow {
  name: string;
  idx: number;
}

/** Containers placed on one host: how many are running (as last reported), and how many in all. */
export interface HostCountRow {
  host: string;
  running: number;
  total: number;
}

/** Containers of one host in one state (as last reported): how many. */
export interface StateCountRow {
  host: string;
  state: string;
  count: number;
}

/** One recorded event (`id` is never reused); `changes` holds a JSON list of field changes. */
export interface EventRow {
  id: number;
  at: string;
  kind: string;
  actor: string;
  manifest: string | null;
  host: string | null;
  container: string | null;
  action: string | null;
  old_state: string | null;
  new_state: string | null;
  changes: string | null;
  error: string | null;
  /** The secret a `secret` event names (its name only). */
  secret: string | null;
}

/** Which events a query reads; null matches every manifest or host. */
export interface EventQuery {
  after: number;
  /** Events at or after this ISO time. */
  since: string;
  manifest: string | null;
  host: string | null;
  limit: number;
}

/** One issued token: its SHA-256 `hash` (hex), never the token itself. */
export interface TokenRow {
  /** Short and public: names the token in lists and revocations. */
  id: string;
  hash: string;
  created_at: string;
  role: string;
  /** The host of an agent token. */
  host: string | null;
  expires_at: string | null;
  last_used_at: string | null;
  /** 1 once revoked. */
  revoked: number;
}

/** A manifest's rollout: the one in progress, or the last one. */
export interface RolloutRow {
  manifest: string;
  /** The revision it rolls out, when known. */
  revision: number | null;
  /** running, succeeded, failed (paused), rolled-back. */
  status: string;
  /** The batch in progress (1-based; 0 before the first). */
  batch: number;
  batches: number;
  /** JSON of the rollout's entries: one per replaced container. */
  plan: string;
  /** JSON of the manifest's UpdatePolicy when it started. */
  policy: string;
  started_at: string;
  batch_started_at: string | null;
  error: string | null;
  updated_at: string;
}

/** One accepted version of a manifest: the text as it was sent, who sent it and when. */
export interface RevisionRow {
  manifest: string;
  /** From 1 per manifest, and only growing, also across a down and a later up. */
  number: number;
  text: string;
  /** `yaml` or `json`, as the text was sent. */
  format: string;
  actor: string;
  at: string;
}

/** A revision in a history: without its text, which may be long. */
export type RevisionEntryRow = Pick<RevisionRow, "number" | "actor" | "at">;

/**
 * One secret: its value encrypted (AES-GCM, base64) with the IV it was encrypted with, and a
 * keyed digest of the value that changes exactly when the value does. Never the value itself.
 */
export interface SecretRow {
  name: string;
  /** Base64 of the AES-GCM ciphertext with its tag. */
  ciphertext: string;
  /** Base64 of the 96-bit IV, new for every write. */
  iv: string;
  /** Hex HMAC-SHA256 of the value, under a key derived from the secret key. */
  digest: string;
  created_at: string;
  updated_at: string;
}

/**
 * One web UI session: the SHA-256 of its cookie's id (never the id), the token it signed in with
 * by the token's id (never the token), and the CSRF token its forms carry.
 */
export interface SessionRow {
  /** Hex SHA-256 of the cookie's value. */
  id_hash: string;
  /** The `tokens` row it signed in with. */
  token_id: string;
  /** 32 random bytes, base64url: useless without the cookie. */
  csrf: string;
  created_at: string;
  /** Written at most once a minute per session (see `src/server/ui_sessions.ts`). */
  last_used_at: string;
}

/**
 * A table's column names, in order, from one entry per column of its row type: a column added to
 * the row type and not here fails to compile.
 */
function columns<Row>(names: Record<keyof Row, true>): string[] {
  return Object.keys(names);
}

/** The columns of `ContainerRow`, in order. */
export const CONTAINER_COLUMNS = columns<ContainerRow>({
  manifest: true,
  name: true,
  host: true,
  spec: true,
  spec_hash: true,
  desired: true,
  state: true,
  container_id: true,
  exit_code: true,
  error: true,
  health: true,
  generation: true,
  restart_generation: true,
  force: true,
  normalized: true,
  template: true,
  placement: true,
  replaces: true,
  created_at: true,
  updated_at: true,
});

/**
 * A container's state without its spec: what an overview of every container counts (the web UI's),
 * a fraction of the bytes of its `ContainerRow`.
 */
export type ContainerStateRow = Pick<
  ContainerRow,
  | "manifest"
  | "name"
  | "host"
  | "desired"
  | "state"
  | "exit_code"
  | "error"
  | "health"
  | "updated_at"
>;

/** The columns of `ContainerStateRow`, in order. */
export const CONTAINER_STATE_COLUMNS = columns<ContainerStateRow>({
  manifest: true,
  name: true,
  host: true,
  desired: true,
  state: true,
  exit_code: true,
  error: true,
  health: true,
  updated_at: true,
});

/** The columns of `HostRow`, in order. */
export const HOST_COLUMNS = columns<HostRow>({
  name: true,
  engine_version: true,
  os: true,
  arch: true,
  cpus: true,
  memory: true,
  agent_version: true,
  labels: true,
  interval_ms: true,
  registered_at: true,
  last_seen: true,
  draining: true,
});

/** The columns of `EventRow`, in order. */
export const EVENT_COLUMNS = columns<EventRow>({
  id: true,
  at: true,
  kind: true,
  actor: true,
  manifest: true,
  host: true,
  container: true,
  action: true,
  old_state: true,
  new_state: true,
  changes: true,
  error: true,
  secret: true,
});

/** The columns of `TokenRow`, in order. */
export const TOKEN_COLUMNS = columns<TokenRow>({
  id: true,
  hash: true,
  created_at: true,
  role: true,
  host: true,
  expires_at: true,
  last_used_at: true,
  revoked: true,
});

/** The columns of `RolloutRow`, in order. */
export const ROLLOUT_COLUMNS = columns<RolloutRow>({
  manifest: true,
  revision: true,
  status: true,
  batch: true,
  batches: true,
  plan: true,
  policy: true,
  started_at: true,
  batch_started_at: true,
  error: true,
  updated_at: true,
});

/** The columns of `SecretRow`, in order. */
export const SECRET_COLUMNS = columns<SecretRow>({
  name: true,
  ciphertext: true,
  iv: true,
  digest: true,
  created_at: true,
  updated_at: true,
});

/** The columns of `RevisionRow`, in order. */
export const REVISION_COLUMNS = columns<RevisionRow>({
  manifest: true,
  number: true,
  text: true,
  format: true,
  actor: true,
  at: true,
});

/** The columns of `SessionRow`, in order. */
export const SESSION_COLUMNS = columns<SessionRow>({
  id_hash: true,
  token_id: true,
  csrf: true,
  created_at: true,
  last_used_at: true,
});
