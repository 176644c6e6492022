/**
 * Placement: which host runs a container whose spec names none. A pure decision over a snapshot
 * of the hosts; the planner gathers the snapshot and stores the result. docs/scheduling.md says
 * the rules for users; this file is the one place they are decided.
 */
import { formatBytes } from "../bytes.ts";

/** One host as placement sees it. */
export interface PlacementHost {
  name: string;
  /** Why the host takes nothing now; absent when it is online and accepting. */
  unavailable?: "offline" | "draining" | "unregistered";
  labels: Record<string, string>;
  /** What its agent registered: billionths of a CPU, and bytes. */
  nanoCpus: number;
  memory: number;
  /** What is already placed there (pinned containers too), same units. */
  usedNanoCpus: number;
  usedMemory: number;
  /** Fixed host ports taken there, as "8080/tcp". */
  ports: Set<string>;
  /** How many instances of each template already run there, by template key ("shop/web"). */
  templates: Map<string, number>;
}

/** One instance to place. */
export interface PlacementAsk {
  /** Its template ("manifest/spec name"): replicas of one template spread over hosts. */
  template: string;
  /** Billionths of a CPU; 0 when the spec sets no cpus. */
  nanoCpus: number;
  /** Bytes; 0 when the spec sets no memory. */
  memory: number;
  /** Fixed host ports it binds, "8080/tcp". */
  ports: string[];
  /** Hard: every label must match the host's. */
  labels: Record<string, string>;
  /** Hard: when non-empty, only these hosts. */
  hosts: string[];
  /** Among equally loaded hosts: the emptiest (`spread`) or the fullest (`binpack`). */
  strategy: "spread" | "binpack";
  /** A host to keep when it still fits (sticky placement: a changed spec keeps its host). */
  prefer?: string;
  /** Hosts never to use for this ask (the host it is being moved away from). */
  avoid?: string[];
}

/** Where an ask goes, or why it cannot go anywhere now. */
export type PlacementChoice = { host: string } | { pending: string };

// Why a host does not fit, in the order a pending reason reports them: each host is counted under
// the first rule it fails, so the counts add up to the number of hosts.
const OFFLINE = 0;
const DRAINING = 1;
const UNREGISTERED = 2;
const AVOIDED = 3;
const NOT_LISTED = 4;
const LABEL = 5;
const CPU = 6;
const MEMORY = 7;
const PORT = 8;
const FITS = 9;

const UNAVAILABLE = { offline: OFFLINE, draining: DRAINING, unregistered: UNREGISTERED };

/** An ask turned into host indexes and lists once, so the scan over hosts does no lookups. */
interface Prepared {
  ask: PlacementAsk;
  labels: [string, string][];
  /** Indexes of `ask.hosts` that exist, ascending; undefined when any host will do. */
  only?: number[];
  listed?: Set<number>;
  avoided?: Set<number>;
}

/** A fitting host as it stood when ranked; stale once its version has moved on. */
interface Ranked {
  i: number;
  count: number;
  /** Free room after placing, negated for binpack: more is better either way. */
  room: number;
  version: number;
}

/** The hosts that fit one kind of ask, best first (a binary heap), kept current as room moves. */
interface Ranking {
  prepared: Prepared;
  /** False for asks of templates with no instance anywhere: every count is 0 for them. */
  byCount: boolean;
  heap: Ranked[];
}

/** Places asks one after another over a set of hosts, taking the room each placement uses. */
export class Placer {
  // One array per field, indexed by host in name order: the scan over a thousand hosts for each
  // of ten thousand asks stays on flat numbers instead of chasing objects and maps.
  readonly #names: string[];
  readonly #index = new Map<string, number>();
  readonly #rule: Uint8Array;
  readonly #labels: Map<string, string>[];
  readonly #ports: Set<string>[];
  readonly #cpus: Float64Array;
  readonly #memory: Float64Array;
  readonly #usedCpus: Float64Array;
  readonly #usedMemory: Float64Array;
  // 1/capacity, 0 for a host that registered none: its free fraction of that resource is 0.
  readonly #perCpu: Float64Array;
  readonly #perMemory: Float64Array;
  /** Instances per host of each template that has any, sparse: most hosts run none of most. */
  readonly #templates = new Map<string, Map<number, number>>();
  // The same counts, dense, for one template at a time: replicas of one template come in a row,
  // and an array read per host is what keeps the scan cheap.
  readonly #counts: Int32Array;
  #countsOf: string | undefined;
  /** Available hosts that have a set of labels (1) or not (0), by the labels: they never change. */
  readonly #masks = new Map<string, Uint8Array>();
  // Nothing fits an ask, and nothing changed since: an ask with the same constraints is pending
  // for the same reason (the remaining replicas of a template that ran out of room).
  #pending: { ask: PlacementAsk; reason: string } | undefined;
  // Replicas of one spec come in a row and differ only in one host's room after each is placed:
  // from the second of a run on, a ranking updated per placement replaces a scan of every host.
  // So do specs alike but for their name (a manifest of many single containers): for a template
  // with no instance yet, only room and name rank, whatever the template.
  #last: PlacementAsk | undefined;
  #ranking: Ranking | undefined;
  #fresh: Ranking | undefined;
  /** Grows with every change of a host's room, so that rankings can tell a stale entry. */
  readonly #versions: Uint32Array;

  constructor(hosts: Iterable<PlacementHost>) {
    // Host names are unique in the registry; were one given twice, the last would count.
    const byName = new Map<string, PlacementHost>();
    for (const host of hosts) byName.set(host.name, host);
    // Name order makes the result independent of the order the caller listed hosts in, and a
    // scan that keeps the first of equals breaks ties by name.
    this.#names = [...byName.keys()].sort((a, b) => a < b ? -1 : a > b ? 1 : 0);
    const n = this.#names.length;
    this.#rule = new Uint8Array(n);
    this.#cpus = new Float64Array(n);
    this.#memory = new Float64Array(n);
    this.#usedCpus = new Float64Array(n);
    this.#usedMemory = new Float64Array(n);
    this.#perCpu = new Float64Array(n);
    this.#perMemory = new Float64Array(n);
    this.#counts = new Int32Array(n);
    this.#versions = new Uint32Array(n);
    this.#labels = [];
    this.#ports = [];
    this.#names.forEach((name, i) => {
      const host = byName.get(name)!;
      this.#index.set(name, i);
      this.#rule[i] = host.unavailable === undefined ? FITS : UNAVAILABLE[host.unavailable];
      // Copies: placing takes room in this Placer's view, never in the caller's objects.
      this.#labels.push(new Map(Object.entries(host.labels)));
      this.#ports.push(new Set(host.ports));
      this.#cpus[i] = host.nanoCpus;
      this.#memory[i] = host.memory;
      this.#usedCpus[i] = host.usedNanoCpus;
      this.#usedMemory[i] = host.usedMemory;
      this.#perCpu[i] = host.nanoCpus > 0 ? 1 / host.nanoCpus : 0;
      this.#perMemory[i] = host.memory > 0 ? 1 / host.memory : 0;
      for (const [template, count] of host.templates) this.#count(template, i, count);
    });
  }

  /** Chooses a host for one ask and takes its room there; or says why none fits. */
  place(ask: PlacementAsk): PlacementChoice {
    if (this.#pending !== undefined && sameConstraints(this.#pending.ask, ask)) {
      return { pending: this.#pending.reason };
    }
    const prepared = this.#prepare(ask);
    const prefer = ask.prefer === undefined ? undefined : this.#index.get(ask.prefer);
    const chosen = prefer !== undefined && this.#fails(prefer, prepared) === FITS
      ? prefer
      : this.#best(prepared);
    if (chosen < 0) {
      const reason = this.#reason(prepared);
      this.#pending = { ask: snapshot(ask), reason };
      return { pending: reason };
    }
    this.#take(chosen, ask, 1);
    return { host: this.#names[chosen] };
  }

  /** Gives back the room an instance held on a host (it was removed or moved away). */
  release(host: string, ask: PlacementAsk): void {
    const i = this.#index.get(host);
    if (i !== undefined) this.#take(i, ask, -1);
  }

  #prepare(ask: PlacementAsk): Prepared {
    const prepared: Prepared = { ask, labels: Object.entries(ask.labels) };
    if (ask.hosts.length > 0) {
      prepared.listed = this.#indexes(ask.hosts);
      prepared.only = [...prepared.listed].sort((a, b) => a - b);
    }
    if (ask.avoid !== undefined && ask.avoid.length > 0) {
      prepared.avoided = this.#indexes(ask.avoid);
    }
    return prepared;
  }

  #indexes(names: string[]): Set<number> {
    const indexes = new Set<number>();
    for (const name of names) {
      const i = this.#index.get(name);
      if (i !== undefined) indexes.add(i);
    }
    return indexes;
  }

  /** The first rule host `i` fails for the ask, or FITS. The one judge of what fits. */
  #fails(i: number, { ask, labels, listed, avoided }: Prepared): number {
    const rule = this.#rule[i];
    if (rule !== FITS) return rule;
    if (avoided !== undefined && avoided.has(i)) return AVOIDED;
    if (listed !== undefined && !listed.has(i)) return NOT_LISTED;
    if (labels.length > 0 && this.#missingLabel(i, labels) >= 0) return LABEL;
    // An ask of 0 fits even a host whose pinned containers already overcommit it.
    if (ask.nanoCpus > 0 && this.#usedCpus[i] + ask.nanoCpus > this.#cpus[i]) return CPU;
    if (ask.memory > 0 && this.#usedMemory[i] + ask.memory > this.#memory[i]) return MEMORY;
    if (ask.ports.length > 0 && this.#takenPort(i, ask.ports) >= 0) return PORT;
    return FITS;
  }

  /** The index in `labels` of the first label host `i` lacks, or -1. */
  #missingLabel(i: number, labels: [string, string][]): number {
    const has = this.#labels[i];
    return labels.findIndex(([key, value]) => has.get(key) !== value);
  }

  /** The index in `ports` of the first port taken on host `i`, or -1. */
  #takenPort(i: number, ports: string[]): number {
    const taken = this.#ports[i];
    return ports.findIndex((port) => taken.has(port));
  }

  /**
   * The best fitting host for the ask, or -1 when none fits: fewest instances of its template,
   * then most free room (spread) or least (binpack), then first by name.
   */
  #best(prepared: Prepared): number {
    const { ask } = prepared;
    const last = this.#last;
    this.#last = ask;
    // A template with no instance anywhere counts 0 on every host: room and name decide.
    const fresh = (this.#templates.get(ask.template)?.size ?? 0) === 0;
    const like = fresh ? sameRoom : alike;
    let ranking = fresh ? this.#fresh : this.#ranking;
    if (ranking === undefined || !like(ranking.prepared.ask, ask)) {
      // One ask alone is cheaper to scan for than to rank for; the second of a run is worth it.
      if (last === undefined || !like(last, ask)) return this.#scan(prepared);
      ranking = this.#rank(this.#prepare(snapshot(ask)), !fresh);
      if (fresh) this.#fresh = ranking;
      else this.#ranking = ranking;
    }
    return this.#top(ranking);
  }

  /** The best fitting host, found by looking at every host once. */
  #scan(prepared: Prepared): number {
    const { ask, only } = prepared;
    const mask = this.#mask(prepared.labels);
    const counts = this.#countsFor(ask.template);
    const cpus = this.#cpus, memory = this.#memory;
    const usedCpus = this.#usedCpus, usedMemory = this.#usedMemory;
    const perCpu = this.#perCpu, perMemory = this.#perMemory;
    const askCpus = ask.nanoCpus, askMemory = ask.memory;
    // Spread keeps the most free room, binpack the least: flipping the sign lets one comparison
    // serve both.
    const sign = ask.strategy === "binpack" ? -1 : 1;
    let best = -1;
    let bestCount = Infinity;
    let bestRoom = -Infinity;
    const m = only === undefined ? this.#names.length : only.length;
    for (let j = 0; j < m; j++) {
      const i = only === undefined ? j : only[j];
      // Cheap numeric checks first; #fails, which decides, runs only for a host that would win.
      if (mask[i] === 0) continue;
      const count = counts[i];
      if (count > bestCount) continue;
      const freeCpus = cpus[i] - usedCpus[i] - askCpus;
      if (askCpus > 0 && freeCpus < 0) continue;
      const freeMemory = memory[i] - usedMemory[i] - askMemory;
      if (askMemory > 0 && freeMemory < 0) continue;
      // The same sum as #freeRoom, inline: this line runs ten million times for 10k asks.
      const room = sign * (freeCpus * perCpu[i] + freeMemory * perMemory[i]);
      // Strictly better only: hosts come in name order, so the first of equals (by name) stays.
      if (count === bestCount && room <= bestRoom) continue;
      if (this.#fails(i, prepared) !== FITS) continue;
      best = i;
      bestCount = count;
      bestRoom = room;
    }
    return best;
  }

  /**
   * Host `i`'s free room once the ask is placed: its free fraction of CPU plus its free fraction
   * of memory, each 0 for a resource it registered none of. 2 is an empty host, 0 a full one.
   */
  #freeRoom(i: number, ask: PlacementAsk): number {
    return (this.#cpus[i] - this.#usedCpus[i] - ask.nanoCpus) * this.#perCpu[i] +
      (this.#memory[i] - this.#usedMemory[i] - ask.memory) * this.#perMemory[i];
  }

  /** Every host that fits, in a heap ordered as #scan chooses. */
  #rank(prepared: Prepared, byCount: boolean): Ranking {
    const heap: Ranked[] = [];
    const ranking = { prepared, byCount, heap };
    for (const i of prepared.only ?? this.#names.keys()) {
      const ranked = this.#ranked(i, ranking);
      if (ranked !== undefined) heap.push(ranked);
    }
    for (let k = (heap.length >> 1) - 1; k >= 0; k--) down(heap, k);
    return ranking;
  }

  /** Host `i` as the ranking orders it now, or undefined when it does not fit its asks. */
  #ranked(i: number, { prepared, byCount }: Ranking): Ranked | undefined {
    if (this.#fails(i, prepared) !== FITS) return undefined;
    const { ask } = prepared;
    const room = this.#freeRoom(i, ask);
    return {
      i,
      count: byCount ? this.#templates.get(ask.template)?.get(i) ?? 0 : 0,
      room: ask.strategy === "binpack" ? -room : room,
      version: this.#versions[i],
    };
  }

  /** The ranking's best host that is still current, dropping stale entries on the way. */
  #top({ heap }: Ranking): number {
    while (heap.length > 0) {
      const top = heap[0];
      if (top.version === this.#versions[top.i]) return top.i;
      pop(heap);
    }
    return -1;
  }

  /** Which hosts are available and carry all of these labels. */
  #mask(labels: [string, string][]): Uint8Array {
    const key = JSON.stringify(labels);
    let mask = this.#masks.get(key);
    if (mask === undefined) {
      mask = new Uint8Array(this.#names.length);
      for (let i = 0; i < mask.length; i++) {
        mask[i] = this.#rule[i] === FITS && this.#missingLabel(i, labels) < 0 ? 1 : 0;
      }
      this.#masks.set(key, mask);
    }
    return mask;
  }

  /** The dense counts of a template's instances per host. */
  #countsFor(template: string): Int32Array {
    if (this.#countsOf !== template) {
      this.#counts.fill(0);
      for (const [i, count] of this.#templates.get(template) ?? []) this.#counts[i] = count;
      this.#countsOf = template;
    }
    return this.#counts;
  }

  /** Takes (sign 1) or gives back (sign -1) an instance's room on host `i`. */
  #take(i: number, ask: PlacementAsk, sign: 1 | -1) {
    this.#pending = undefined;
    this.#usedCpus[i] = Math.max(0, this.#usedCpus[i] + sign * ask.nanoCpus);
    this.#usedMemory[i] = Math.max(0, this.#usedMemory[i] + sign * ask.memory);
    const ports = this.#ports[i];
    for (const port of ask.ports) {
      if (sign > 0) ports.add(port);
      else ports.delete(port);
    }
    this.#count(ask.template, i, sign);
    // Only host i changed: the rankings take it again as it is now, and drop it as it was.
    this.#versions[i]++;
    for (const ranking of [this.#ranking, this.#fresh]) {
      const ranked = ranking && this.#ranked(i, ranking);
      if (ranked !== undefined) push(ranking!.heap, ranked);
    }
  }

  #count(template: string, i: number, change: number) {
    let counts = this.#templates.get(template);
    const count = Math.max(0, (counts?.get(i) ?? 0) + change);
    if (count > 0) {
      if (counts === undefined) this.#templates.set(template, counts = new Map());
      counts.set(i, count);
    } else counts?.delete(i);
    if (this.#countsOf === template) this.#counts[i] = count;
  }

  /** Why nothing fits: each host counted under the first rule it fails, rules in fixed order. */
  #reason(prepared: Prepared): string {
    if (this.#names.length === 0) return "no host fits: no host has registered";
    const { ask, labels } = prepared;
    const counts = new Array<number>(FITS).fill(0);
    // Labels and ports are grouped by the first one each host lacks, in the ask's order.
    const byLabel = new Array<number>(labels.length).fill(0);
    const byPort = new Array<number>(ask.ports.length).fill(0);
    for (let i = 0; i < this.#names.length; i++) {
      const rule = this.#fails(i, prepared);
      counts[rule]++;
      if (rule === LABEL) byLabel[this.#missingLabel(i, labels)]++;
      if (rule === PORT) byPort[this.#takenPort(i, ask.ports)]++;
    }
    const parts: string[] = [];
    const add = (n: number, text: string) => {
      if (n > 0) parts.push(`${n} ${text}`);
    };
    const lack = (n: number) => n === 1 ? "lacks" : "lack";
    add(counts[OFFLINE], "offline");
    add(counts[DRAINING], "draining");
    add(counts[UNREGISTERED], "unregistered");
    add(counts[AVOIDED], "being moved away from");
    add(counts[NOT_LISTED], "not in placement.hosts");
    labels.forEach(([key, value], l) =>
      add(byLabel[l], `${lack(byLabel[l])} label ${key}=${value}`)
    );
    // Decimals as --cpus takes them: 0.5, and 0.000000001 rather than 1e-9.
    const cpus = (ask.nanoCpus / 1e9).toFixed(9).replace(/\.?0+$/, "");
    add(counts[CPU], `${lack(counts[CPU])} ${cpus} ${cpus === "1" ? "CPU" : "CPUs"}`);
    add(counts[MEMORY], `${lack(counts[MEMORY])} ${formatBytes(ask.memory)} memory`);
    ask.ports.forEach((port, p) =>
      add(byPort[p], `${byPort[p] === 1 ? "has" : "have"} port ${port} taken`)
    );
    return `no host fits: ${parts.join(", ")}`;
  }
}

/** Whether two asks rule out the same hosts: their template, preference and strategy aside. */
function sameConstraints(a: PlacementAsk, b: PlacementAsk): boolean {
  return a.nanoCpus === b.nanoCpus && a.memory === b.memory && sameList(a.ports, b.ports) &&
    sameList(a.hosts, b.hosts) && sameList(a.avoid ?? [], b.avoid ?? []) &&
    sameLabels(a.labels, b.labels);
}

/** Whether two asks rank hosts the same: the same constraints, template and strategy. */
function alike(a: PlacementAsk, b: PlacementAsk): boolean {
  return a.template === b.template && sameRoom(a, b);
}

/** Whether two asks rank hosts the same by room: the same constraints and strategy. */
function sameRoom(a: PlacementAsk, b: PlacementAsk): boolean {
  return a.strategy === b.strategy && sameConstraints(a, b);
}

/** A copy of an ask to keep: a caller may reuse one ask object and change it between calls. */
function snapshot(ask: PlacementAsk): PlacementAsk {
  const { ports, labels, hosts, avoid } = ask;
  return {
    ...ask,
    ports: [...ports],
    labels: { ...labels },
    hosts: [...hosts],
    avoid: avoid && [...avoid],
  };
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((item, k) => item === b[k]);
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => b[key] === a[key]);
}

/** Whether `a` ranks before `b`: fewer instances of the template, more room, first by name. */
function before(a: Ranked, b: Ranked): boolean {
  return a.count !== b.count ? a.count < b.count : a.room !== b.room ? a.room > b.room : a.i < b.i;
}

function push(heap: Ranked[], ranked: Ranked) {
  let k = heap.push(ranked) - 1;
  while (k > 0) {
    const parent = (k - 1) >> 1;
    if (!before(heap[k], heap[parent])) break;
    [heap[k], heap[parent]] = [heap[parent], heap[k]];
    k = parent;
  }
}

function pop(heap: Ranked[]) {
  const last = heap.pop()!;
  if (heap.length === 0) return;
  heap[0] = last;
  down(heap, 0);
}

/** Moves entry k down to where it belongs below it. */
function down(heap: Ranked[], k: number) {
  for (;;) {
    const left = 2 * k + 1;
    const right = left + 1;
    let top = k;
    if (left < heap.length && before(heap[left], heap[top])) top = left;
    if (right < heap.length && before(heap[right], heap[top])) top = right;
    if (top === k) return;
    [heap[k], heap[top]] = [heap[top], heap[k]];
    k = top;
  }
}

/** Places many asks in order (a convenience over Placer). */
export function placeAll(hosts: Iterable<PlacementHost>, asks: PlacementAsk[]): PlacementChoice[] {
  const placer = new Placer(hosts);
  return asks.map((ask) => placer.place(ask));
}
