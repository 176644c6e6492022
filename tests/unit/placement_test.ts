import assert from "node:assert/strict";
import {
  placeAll,
  type PlacementAsk,
  type PlacementChoice,
  type PlacementHost,
  Placer,
} from "../../src/server/placement.ts";

const CPU = 1e9;
const MiB = 2 ** 20;
const GiB = 2 ** 30;

/** An online, empty host of 4 CPUs and 8 GiB; override what the test is about. */
function host(name: string, overrides: Partial<PlacementHost> = {}): PlacementHost {
  return {
    name,
    labels: {},
    nanoCpus: 4 * CPU,
    memory: 8 * GiB,
    usedNanoCpus: 0,
    usedMemory: 0,
    ports: new Set(),
    templates: new Map(),
    ...overrides,
  };
}

/** One replica of shop/web that asks for nothing; override what the test is about. */
function ask(overrides: Partial<PlacementAsk> = {}): PlacementAsk {
  return {
    template: "shop/web",
    nanoCpus: 0,
    memory: 0,
    ports: [],
    labels: {},
    hosts: [],
    strategy: "spread",
    ...overrides,
  };
}

function replicas(n: number, overrides: Partial<PlacementAsk> = {}): PlacementAsk[] {
  return Array.from({ length: n }, () => ask(overrides));
}

/** Where each placement went, in order ("pending" for one that went nowhere). */
function where(placements: PlacementChoice[]): string[] {
  return placements.map((p) => "host" in p ? p.host : "pending");
}

function pending(placement: PlacementChoice): string {
  assert.ok("pending" in placement, `expected pending, got ${JSON.stringify(placement)}`);
  return placement.pending;
}

Deno.test("labels are hard: only a host with every label, and the same value, is used", () => {
  const hosts = [
    host("a", { labels: { zone: "eu-2" } }),
    host("b", { labels: { zone: "eu-1" } }),
    host("c", { labels: { zone: "eu-1", disk: "hdd" } }),
    host("d", { labels: { zone: "eu-1", disk: "ssd" } }),
  ];
  assert.deepEqual(where(placeAll(hosts, replicas(3, { labels: { zone: "eu-1" } }))), [
    "b",
    "c",
    "d",
  ]);
  assert.deepEqual(where(placeAll(hosts, replicas(2, { labels: { zone: "eu-1", disk: "ssd" } }))), [
    "d",
    "d",
  ]);
  const placer = new Placer(hosts);
  assert.equal(
    pending(placer.place(ask({ labels: { zone: "us-1" } }))),
    "no host fits: 4 lack label zone=us-1",
  );
  // Asks that differ only in a label's value are judged apart, one right after the other.
  assert.deepEqual(
    where([
      placer.place(ask({ labels: { zone: "eu-2" } })),
      placer.place(ask({ labels: { zone: "eu-1" } })),
      placer.place(ask({ labels: { zone: "eu-1" } })),
      placer.place(ask({ labels: { zone: "eu-2" } })),
    ]),
    ["a", "b", "c", "a"],
  );
});

Deno.test("placement.hosts is hard: only the hosts it lists are used", () => {
  const hosts = [host("a"), host("b"), host("c")];
  assert.deepEqual(where(placeAll(hosts, replicas(4, { hosts: ["c", "b"] }))), [
    "b",
    "c",
    "b",
    "c",
  ]);
  assert.equal(
    pending(new Placer(hosts).place(ask({ hosts: ["z"] }))),
    "no host fits: 3 not in placement.hosts",
  );
});

Deno.test("CPU and memory must fit, an exact fit included", () => {
  const hosts = [host("a", { nanoCpus: 2 * CPU, usedNanoCpus: 1.5 * CPU, memory: GiB })];
  const placer = new Placer(hosts);
  assert.equal(
    pending(placer.place(ask({ nanoCpus: 0.6 * CPU }))),
    "no host fits: 1 lacks 0.6 CPUs",
  );
  assert.deepEqual(placer.place(ask({ nanoCpus: 0.5 * CPU, memory: GiB })), { host: "a" });
  assert.equal(pending(placer.place(ask({ nanoCpus: 1 * CPU }))), "no host fits: 1 lacks 1 CPU");
  assert.equal(
    pending(placer.place(ask({ memory: 512 * MiB }))),
    "no host fits: 1 lacks 512 MiB memory",
  );
  assert.equal(
    pending(new Placer(hosts).place(ask({ memory: 1.5 * GiB }))),
    "no host fits: 1 lacks 1.5 GiB memory",
  );
});

Deno.test("an ask of no CPU and no memory fits a host its pinned containers overcommit", () => {
  const full = host("a", { usedNanoCpus: 6 * CPU, usedMemory: 9 * GiB });
  assert.deepEqual(placeAll([full], [ask()]), [{ host: "a" }]);
  assert.equal(
    pending(new Placer([full]).place(ask({ nanoCpus: 1 }))),
    "no host fits: 1 lacks 0.000000001 CPUs",
  );
});

Deno.test("a fixed host port keeps replicas on different hosts, and the 4th of 3 is pending", () => {
  const hosts = [host("a"), host("b"), host("c")];
  const placements = placeAll(hosts, replicas(4, { ports: ["8080/tcp"], strategy: "binpack" }));
  assert.deepEqual(where(placements), ["a", "b", "c", "pending"]);
  assert.equal(pending(placements[3]), "no host fits: 3 have port 8080/tcp taken");
  // Two templates binding one port cannot share a host either, and another protocol can.
  assert.deepEqual(
    where(placeAll([host("a")], [
      ask({ template: "shop/web", ports: ["8080/tcp"] }),
      ask({ template: "shop/api", ports: ["8080/tcp"] }),
      ask({ template: "shop/dns", ports: ["8080/udp"] }),
    ])),
    ["a", "pending", "a"],
  );
  assert.equal(
    pending(new Placer([host("a", { ports: new Set(["8080/tcp"]) })]).place(
      ask({ ports: ["8080/tcp"] }),
    )),
    "no host fits: 1 has port 8080/tcp taken",
    "a port a pinned container holds counts too",
  );
});

Deno.test("replicas spread over hosts: 3 on 3 one each, the 4th on the first by name", () => {
  const hosts = [host("c"), host("a"), host("b")];
  assert.deepEqual(where(placeAll(hosts, replicas(3))), ["a", "b", "c"]);
  assert.deepEqual(where(placeAll(hosts, replicas(4))), ["a", "b", "c", "a"]);
  // Instances already running count: the host that has none gets the next.
  const running = [host("a", { templates: new Map([["shop/web", 1]]) }), host("b")];
  assert.deepEqual(where(placeAll(running, replicas(1))), ["b"]);
  // Another template's instances do not, whether running or placed just before.
  const other = [host("a", { templates: new Map([["shop/api", 3]]) }), host("b")];
  assert.deepEqual(where(placeAll(other, replicas(1))), ["a"]);
  const two = [...replicas(2, { template: "shop/api" }), ...replicas(2)];
  assert.deepEqual(where(placeAll(hosts, two)), ["a", "b", "a", "b"]);
});

Deno.test("spread: the host with the most free room wins, as CPU plus memory fractions", () => {
  const hosts = [
    host("a", { usedNanoCpus: 2 * CPU }), // 0.5 + 1 free
    host("b", { usedMemory: 4 * GiB }), // 1 + 0.5 free
    host("c", { usedNanoCpus: 1 * CPU }), // 0.75 + 1 free
  ];
  assert.deepEqual(where(placeAll(hosts, [ask()])), ["c"]);
  // A small empty host beats a big half-full one: room is a fraction, not an amount.
  const sizes = [
    host("big", { nanoCpus: 64 * CPU, memory: 256 * GiB, usedNanoCpus: 32 * CPU }),
    host("small", { nanoCpus: 1 * CPU, memory: 1 * GiB }),
  ];
  assert.deepEqual(where(placeAll(sizes, [ask()])), ["small"]);
});

Deno.test("free room is counted after placing the ask", () => {
  // Before: small is emptier (2 vs 1.6). After 0.5 CPU: small 1.5, big 1.55.
  const hosts = [
    host("small", { nanoCpus: 1 * CPU }),
    host("big", { nanoCpus: 10 * CPU, usedNanoCpus: 4 * CPU }),
  ];
  assert.deepEqual(where(placeAll(hosts, [ask({ nanoCpus: 0.5 * CPU })])), ["big"]);
});

Deno.test("a host that registered no CPUs or no memory takes asks for none, without dividing by 0", () => {
  const hosts = [
    host("a", { nanoCpus: 0, memory: 0 }),
    host("b", { nanoCpus: 0, usedMemory: 2 * GiB }),
  ];
  // b's memory fraction 0.75 beats a's 0; neither has a CPU fraction.
  assert.deepEqual(where(placeAll(hosts, [ask(), ask({ template: "x/y" })])), ["b", "b"]);
  assert.equal(
    pending(new Placer(hosts).place(ask({ nanoCpus: CPU }))),
    "no host fits: 2 lack 1 CPU",
  );
});

Deno.test("ties are broken by host name, whatever order the hosts come in", () => {
  const names = ["m", "b", "x", "a", "k"];
  for (const order of [names, [...names].reverse(), [...names].sort()]) {
    assert.deepEqual(where(placeAll(order.map((n) => host(n)), replicas(6))), [
      "a",
      "b",
      "k",
      "m",
      "x",
      "a",
    ]);
  }
});

Deno.test("binpack fills the fullest host that fits, after spreading replicas of one template", () => {
  const hosts = [
    host("a", { usedNanoCpus: 1 * CPU }),
    host("b", { usedNanoCpus: 3 * CPU }),
    host("c", { usedNanoCpus: 4 * CPU }), // full for any CPU ask
  ];
  const apps = ["x/1", "x/2", "x/3"].map((template) =>
    ask({ template, nanoCpus: 0.5 * CPU, strategy: "binpack" })
  );
  // b fills up (3.5, then 4), then a takes the rest.
  assert.deepEqual(where(placeAll(hosts, apps)), ["b", "b", "a"]);
  // Replicas of one template still go to different hosts first, c included when it fits.
  assert.deepEqual(where(placeAll(hosts, replicas(4, { strategy: "binpack" }))), [
    "c",
    "b",
    "a",
    "c",
  ]);
});

Deno.test("sticky: a preferred host is kept while it fits, and dropped when it does not", () => {
  const hosts = [host("a", { usedNanoCpus: 3 * CPU }), host("b")];
  assert.deepEqual(placeAll(hosts, [ask({ prefer: "a", nanoCpus: CPU })]), [{ host: "a" }]);
  assert.deepEqual(placeAll(hosts, [ask({ prefer: "a", nanoCpus: 2 * CPU })]), [{ host: "b" }]);
  // Kept against the spread of replicas too: each replica keeps its own host.
  const running = [host("a", { templates: new Map([["shop/web", 2]]) }), host("b")];
  assert.deepEqual(placeAll(running, [ask({ prefer: "a" })]), [{ host: "a" }]);
  // A preferred host that left (unknown or offline) is no obstacle.
  assert.deepEqual(placeAll(hosts, [ask({ prefer: "gone" })]), [{ host: "b" }]);
  const offline = [host("a", { unavailable: "offline" }), host("b", { usedMemory: GiB })];
  assert.deepEqual(placeAll(offline, [ask({ prefer: "a" })]), [{ host: "b" }]);
});

Deno.test("avoid: the host an instance moves away from is never used, preferred or not", () => {
  const hosts = [host("a"), host("b", { usedNanoCpus: CPU })];
  assert.deepEqual(placeAll(hosts, [ask({ avoid: ["a"], prefer: "a" })]), [{ host: "b" }]);
  assert.equal(
    pending(new Placer([host("a")]).place(ask({ avoid: ["a"] }))),
    "no host fits: 1 being moved away from",
  );
});

Deno.test("the same hosts and asks give the same placements in any host order", () => {
  const hosts = [
    host("h1", { nanoCpus: 8 * CPU, memory: 16 * GiB, usedNanoCpus: 2 * CPU }),
    host("h2", { labels: { zone: "eu" } }),
    host("h3", { labels: { zone: "eu" }, usedMemory: 6 * GiB }),
    host("h4", { unavailable: "draining" }),
    host("h5", { nanoCpus: 2 * CPU, memory: 2 * GiB }),
    host("h6", { ports: new Set(["80/tcp"]) }),
  ];
  const asks = [
    ...replicas(5, { template: "a/web", nanoCpus: CPU, ports: ["80/tcp"] }),
    ...replicas(4, { template: "a/db", memory: 2 * GiB, labels: { zone: "eu" } }),
    ...replicas(6, { template: "a/job", nanoCpus: CPU / 2, strategy: "binpack" }),
  ];
  const expected = placeAll(hosts, asks);
  for (let shift = 1; shift < hosts.length; shift++) {
    const turned = [...hosts.slice(shift), ...hosts.slice(0, shift)];
    assert.deepEqual(placeAll(turned, asks), expected);
    assert.deepEqual(placeAll([...turned].reverse(), asks), expected);
  }
});

Deno.test("a pending reason counts hosts as the issue shows", () => {
  const hosts = [
    host("a", { unavailable: "offline" }),
    host("b", { unavailable: "offline" }),
    host("c", { usedMemory: 7.75 * GiB }),
    host("d", { ports: new Set(["8080/tcp"]) }),
  ];
  assert.equal(
    pending(new Placer(hosts).place(ask({ memory: 512 * MiB, ports: ["8080/tcp"] }))),
    "no host fits: 2 offline, 1 lacks 512 MiB memory, 1 has port 8080/tcp taken",
  );
});

Deno.test("a pending reason counts each host once, under the first rule it fails, in order", () => {
  // Every host but the first fails every later rule too: only the first one counts.
  const fails = {
    labels: {},
    usedNanoCpus: 4 * CPU,
    usedMemory: 8 * GiB,
    ports: new Set(["80/tcp"]),
  };
  const hosts = [
    host("off", { ...fails, unavailable: "offline" }),
    host("drain", { ...fails, unavailable: "draining" }),
    host("new", { ...fails, unavailable: "unregistered" }),
    host("old", fails),
    host("elsewhere", fails),
    host("us", { ...fails, labels: { zone: "us" } }),
    host("nodisk", { ...fails, labels: { zone: "eu" } }),
    host("cpu", { ...fails, labels: { zone: "eu", disk: "ssd" } }),
    host("mem", { ...fails, labels: { zone: "eu", disk: "ssd" }, usedNanoCpus: 0 }),
    host("port", { ...fails, labels: { zone: "eu", disk: "ssd" }, usedNanoCpus: 0, usedMemory: 0 }),
    host("port2", {
      labels: { zone: "eu", disk: "ssd" },
      ports: new Set(["443/tcp", "80/tcp"]),
    }),
    host("port3", { labels: { zone: "eu", disk: "ssd" }, ports: new Set(["443/tcp"]) }),
  ];
  const placement = new Placer(hosts).place(ask({
    labels: { zone: "eu", disk: "ssd" },
    hosts: hosts.map((h) => h.name).filter((name) => name !== "elsewhere"),
    avoid: ["old"],
    nanoCpus: CPU / 2,
    memory: 256 * MiB,
    ports: ["80/tcp", "443/tcp"],
  }));
  assert.equal(
    pending(placement),
    "no host fits: 1 offline, 1 draining, 1 unregistered, 1 being moved away from, " +
      "1 not in placement.hosts, 1 lacks label zone=eu, 1 lacks label disk=ssd, 1 lacks 0.5 CPUs, " +
      "1 lacks 256 MiB memory, 2 have port 80/tcp taken, 1 has port 443/tcp taken",
  );
});

Deno.test("with no hosts at all the reason says none has registered", () => {
  assert.deepEqual(placeAll([], [ask()]), [{ pending: "no host fits: no host has registered" }]);
});

Deno.test("placing takes room for later asks, and release gives it back", () => {
  const placer = new Placer([host("a", { nanoCpus: 2 * CPU }), host("b", { nanoCpus: 2 * CPU })]);
  const big = ask({ nanoCpus: 2 * CPU, ports: ["80/tcp"] });
  assert.deepEqual(where([placer.place(big), placer.place(big), placer.place(big)]), [
    "a",
    "b",
    "pending",
  ]);
  placer.release("a", big);
  assert.deepEqual(placer.place(big), { host: "a" }, "CPU and port are free again");
  // The template count goes back too: with b's replica released, b is the host with fewest.
  placer.release("b", big);
  assert.deepEqual(placer.place(ask({ hosts: ["a", "b"] })), { host: "b" });
  // Releasing on a host never named is no error.
  placer.release("nowhere", big);
});

Deno.test("the caller's hosts are not changed by placing", () => {
  const a = host("a", { templates: new Map([["shop/web", 1]]) });
  placeAll([a], replicas(2, { nanoCpus: CPU, memory: GiB, ports: ["80/tcp"] }));
  assert.deepEqual(a, host("a", { templates: new Map([["shop/web", 1]]) }));
});

Deno.test("10,000 replicas over 1,000 hosts: 10 on each", () => {
  const hosts = Array.from({ length: 1000 }, (_, i) => host(`host-${i}`));
  const counts = new Map<string, number>();
  for (const name of where(placeAll(hosts, replicas(10_000, { nanoCpus: CPU / 10 })))) {
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  assert.equal(counts.size, 1000);
  assert.deepEqual(new Set(counts.values()), new Set([10]));
});

// The rules written as plainly as possible, to hold the fast paths of Placer to them.
function reference(hosts: PlacementHost[], steps: Step[]): PlacementChoice[] {
  const state = hosts.map((h) => ({
    ...h,
    ports: new Set(h.ports),
    templates: new Map(h.templates),
  }));
  const fits = (h: typeof state[number], a: PlacementAsk) =>
    h.unavailable === undefined && !(a.avoid ?? []).includes(h.name) &&
    (a.hosts.length === 0 || a.hosts.includes(h.name)) &&
    Object.entries(a.labels).every(([k, v]) => h.labels[k] === v) &&
    (a.nanoCpus === 0 || h.usedNanoCpus + a.nanoCpus <= h.nanoCpus) &&
    (a.memory === 0 || h.usedMemory + a.memory <= h.memory) &&
    a.ports.every((p) => !h.ports.has(p));
  const room = (h: typeof state[number], a: PlacementAsk) =>
    (h.nanoCpus - h.usedNanoCpus - a.nanoCpus) * (h.nanoCpus > 0 ? 1 / h.nanoCpus : 0) +
    (h.memory - h.usedMemory - a.memory) * (h.memory > 0 ? 1 / h.memory : 0);
  const take = (h: typeof state[number], a: PlacementAsk, sign: number) => {
    h.usedNanoCpus = Math.max(0, h.usedNanoCpus + sign * a.nanoCpus);
    h.usedMemory = Math.max(0, h.usedMemory + sign * a.memory);
    for (const p of a.ports) sign > 0 ? h.ports.add(p) : h.ports.delete(p);
    h.templates.set(a.template, Math.max(0, (h.templates.get(a.template) ?? 0) + sign));
  };
  const out: PlacementChoice[] = [];
  for (const step of steps) {
    if ("release" in step) {
      const h = state.find((h) => h.name === step.release);
      if (h) take(h, step.ask, -1);
      continue;
    }
    const a = step.ask;
    const fitting = state.filter((h) => fits(h, a));
    const sign = a.strategy === "binpack" ? -1 : 1;
    const chosen = fitting.find((h) => h.name === a.prefer) ??
      fitting.sort((x, y) =>
        (x.templates.get(a.template) ?? 0) - (y.templates.get(a.template) ?? 0) ||
        sign * (room(y, a) - room(x, a)) ||
        (x.name < y.name ? -1 : 1)
      )[0];
    if (chosen === undefined) out.push({ pending: "" });
    else {
      take(chosen, a, 1);
      out.push({ host: chosen.name });
    }
  }
  return out;
}

type Step = { ask: PlacementAsk } | { release: string; ask: PlacementAsk };

Deno.test("Placer chooses as the plain rules do, over many mixed asks and releases", () => {
  // mulberry32: a fixed seed, so a failure shows again on the next run.
  let seed = 42;
  const random = (n: number) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * n);
  };
  for (let round = 0; round < 20; round++) {
    const hosts = Array.from({ length: 3 + random(15) }, (_, i) =>
      host(`h${random(100)}-${i}`, {
        unavailable: random(8) === 0 ? "offline" : undefined,
        labels: random(2) === 0 ? { zone: "eu" } : { zone: "us" },
        nanoCpus: random(5) * CPU,
        memory: random(5) * GiB,
        usedNanoCpus: random(3) * CPU,
        usedMemory: random(3) * GiB,
        ports: random(4) === 0 ? new Set(["80/tcp"]) : new Set(),
        templates: random(3) === 0 ? new Map([["t0", random(3)]]) : new Map(),
      }));
    const steps: Step[] = [];
    let shape = ask();
    while (steps.length < 300) {
      // Now and then the same constraints for another template, as two specs alike would give.
      shape = random(4) === 0 ? { ...shape, template: `t${random(4)}` } : ask({
        template: `t${random(4)}`,
        nanoCpus: random(3) * CPU / 2,
        memory: random(3) * GiB / 2,
        ports: random(6) === 0 ? ["80/tcp"] : [],
        labels: random(3) === 0 ? { zone: random(2) === 0 ? "eu" : "us" } : {},
        hosts: random(5) === 0 ? hosts.slice(0, 3).map((h) => h.name) : [],
        strategy: random(2) === 0 ? "spread" : "binpack",
        prefer: random(5) === 0 ? hosts[random(hosts.length)].name : undefined,
        avoid: random(5) === 0 ? [hosts[random(hosts.length)].name] : undefined,
      });
      // Runs of like asks, as replicas of one spec come, or as many specs alike but for their
      // names (each a template never placed before), with a release now and then.
      const named = random(4) === 0;
      for (let run = 1 + random(12); run > 0; run--) {
        steps.push({ ask: named ? { ...shape, template: `n${steps.length}` } : shape });
      }
      if (random(3) === 0) {
        steps.push({ release: hosts[random(hosts.length)].name, ask: shape });
      }
    }
    const expected = reference(hosts, steps);
    const placer = new Placer(hosts);
    const got: PlacementChoice[] = [];
    for (const step of steps) {
      if ("release" in step) placer.release(step.release, step.ask);
      else {
        const p = placer.place(step.ask);
        got.push("host" in p ? p : { pending: "" });
      }
    }
    assert.deepEqual(got, expected, `round ${round}`);
  }
});

Deno.test("an ask object reused and changed between calls is judged as it is now", () => {
  const placer = new Placer([host("a", { nanoCpus: CPU }), host("b")]);
  const reused = ask({ nanoCpus: 2 * CPU });
  assert.deepEqual(where([placer.place(reused), placer.place(reused)]), ["b", "b"]);
  reused.nanoCpus = 0;
  reused.hosts = ["a"];
  assert.deepEqual(placer.place(reused), { host: "a" });
  reused.nanoCpus = 4 * CPU;
  assert.equal(
    pending(placer.place(reused)),
    "no host fits: 1 not in placement.hosts, 1 lacks 4 CPUs",
  );
  reused.nanoCpus = CPU / 2;
  assert.deepEqual(placer.place(reused), { host: "a" });
});
