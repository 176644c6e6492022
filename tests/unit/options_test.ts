import assert from "node:assert/strict";
import type { RunOptions } from "../../src/manifest/normalized.ts";
import {
  normalizeOptions,
  OptionError,
  parseOptions,
  readOptions,
} from "../../src/manifest/options.ts";

function rejects(options: string[], message: string, index: number): void {
  assert.throws(() => parseOptions(options), (error) => {
    assert.ok(error instanceof OptionError, JSON.stringify(options));
    assert.equal(error.message, message);
    assert.equal(error.index, index, JSON.stringify(options));
    assert.equal(error.code, "invalid_option");
    return true;
  });
}

Deno.test("parseOptions accepts every flag form", () => {
  const expected: RunOptions = { restart: { name: "always" } };
  assert.deepEqual(parseOptions(["--restart=always"]), expected);
  assert.deepEqual(parseOptions(["--restart always"]), expected);
  assert.deepEqual(parseOptions(["--restart   always"]), expected);
  assert.deepEqual(parseOptions(["--restart", "always"]), expected);
  const volume: RunOptions = { binds: ["/srv:/data"] };
  assert.deepEqual(parseOptions(["-v", "/srv:/data"]), volume);
  assert.deepEqual(parseOptions(["-v /srv:/data"]), volume);
  assert.deepEqual(parseOptions(["-v=/srv:/data"]), volume);
  assert.deepEqual(parseOptions(["--volume=/srv:/data"]), volume);
  assert.deepEqual(parseOptions(["--label", "a=b=c"]), { labels: { a: "b=c" } });
  assert.deepEqual(parseOptions(["--label a=b c"]), { labels: { a: "b c" } });
  assert.deepEqual(parseOptions([]), {});
});

Deno.test("parseOptions maps every supported option to the engine's terms", () => {
  const options = parseOptions([
    "--net=host",
    "--restart=on-failure:5",
    "-v",
    "/srv/data:/data:ro,Z",
    "--volume=cache:/cache",
    "--privileged",
    "-m=256m",
    "--cpus=1.5",
    "--add-host=db:10.0.0.5",
    "--add-host=v6:[::1]",
    "--add-host=gw:host-gateway",
    "--device=/dev/fuse",
    "--device=/dev/sda:/dev/xvda:r",
    "--device=/dev/snd:rw",
    "--tmpfs=/run:size=64m,noexec",
    "--tmpfs=/tmp",
    "--hostname=web-1.local",
    "--cap-add=NET_ADMIN",
    "--cap-drop=ALL",
    "--security-opt=no-new-privileges",
    "--security-opt=seccomp=unconfined",
    "--ipc=shareable",
    "--shm-size=1g",
    "--ulimit=nofile=1024:2048",
    "--ulimit=core=-1",
    "--dns=1.1.1.1",
    "--dns=2606:4700::1111",
    "--dns-search=example.com",
    "-l=tier=web",
    "--label=flag",
  ]);
  const expected: RunOptions = {
    networkMode: "host",
    restart: { name: "on-failure", maxRetries: 5 },
    binds: ["/srv/data:/data:ro,Z", "cache:/cache"],
    privileged: true,
    memory: 256 * 1024 * 1024,
    nanoCpus: 1_500_000_000,
    extraHosts: ["db:10.0.0.5", "v6:::1", "gw:host-gateway"],
    devices: [
      { hostPath: "/dev/fuse", containerPath: "/dev/fuse", permissions: "rwm" },
      { hostPath: "/dev/sda", containerPath: "/dev/xvda", permissions: "r" },
      { hostPath: "/dev/snd", containerPath: "/dev/snd", permissions: "rw" },
    ],
    tmpfs: { "/run": "size=64m,noexec", "/tmp": "" },
    hostname: "web-1.local",
    capAdd: ["NET_ADMIN"],
    capDrop: ["ALL"],
    securityOpt: ["no-new-privileges", "seccomp=unconfined"],
    ipcMode: "shareable",
    shmSize: 1024 ** 3,
    ulimits: [{ name: "nofile", soft: 1024, hard: 2048 }, { name: "core", soft: -1, hard: -1 }],
    dns: ["1.1.1.1", "2606:4700::1111"],
    dnsSearch: ["example.com"],
    labels: { tier: "web", flag: "" },
  };
  assert.deepEqual(options, expected);
});

Deno.test("parseOptions reads sizes, CPUs, restart policies and booleans", () => {
  assert.equal(parseOptions(["--memory=1048576"]).memory, 1048576);
  assert.equal(parseOptions(["--memory=512k"]).memory, 512 * 1024);
  assert.equal(parseOptions(["--memory=2G"]).memory, 2 * 1024 ** 3);
  assert.equal(parseOptions(["--memory=512mb"]).memory, 512 * 1024 ** 2);
  assert.equal(parseOptions(["--memory=1.5g"]).memory, 1.5 * 1024 ** 3);
  assert.equal(parseOptions(["--memory=100b"]).memory, 100);
  assert.equal(parseOptions(["--cpus=.5"]).nanoCpus, 500_000_000);
  assert.equal(parseOptions(["--cpus=2"]).nanoCpus, 2_000_000_000);
  assert.deepEqual(parseOptions(["--restart=no"]).restart, { name: "no" });
  assert.deepEqual(parseOptions(["--restart=unless-stopped"]).restart, {
    name: "unless-stopped",
  });
  assert.deepEqual(parseOptions(["--restart=on-failure"]).restart, { name: "on-failure" });
  assert.equal(parseOptions(["--privileged=true"]).privileged, true);
  assert.equal(parseOptions(["--privileged=false"]).privileged, false);
  assert.equal(parseOptions(["--network=container:db"]).networkMode, "container:db");
  assert.equal(parseOptions(["--ipc", "container:db"]).ipcMode, "container:db");
  assert.equal(parseOptions(["--ulimit=nofile=1024"]).ulimits?.[0].hard, 1024);
});

Deno.test("parseOptions rejects unknown flags, naming them", () => {
  rejects(["--bogus=1"], 'unknown option "--bogus"', 0);
  rejects(
    ["--restart=always", "--memmory=1g"],
    'unknown option "--memmory" (did you mean "--memory"?)',
    1,
  );
  rejects(["-h", "web"], 'unknown option "-h" (use --hostname)', 0);
  rejects(["-p 80:80"], `unknown option "-p" (ports go in the spec's ports list)`, 0);
  rejects(
    ["--env=A=1"],
    `unknown option "--env" (variables go in the spec's environment mapping)`,
    0,
  );
  rejects(["-m256m"], 'unknown option "-m256m"', 0);
  rejects(["always"], 'option "always" is not a flag (expected --name=value)', 0);
  rejects(["--"], 'option "--" is not a flag (expected --name=value)', 0);
  rejects([""], 'option "" is not a flag (expected --name=value)', 0);
});

Deno.test("parseOptions rejects missing and empty values", () => {
  rejects(["--restart"], 'option "--restart" is missing its value', 0);
  rejects(["--net", "--privileged"], 'option "--net" is missing its value', 0);
  rejects(["--privileged", "-v"], 'option "-v" is missing its value', 1);
  rejects(["--restart="], 'option "--restart" has an empty value', 0);
  rejects(["--restart", ""], 'option "--restart" has an empty value', 1);
});

Deno.test("parseOptions rejects a single-value flag given twice, in any spelling", () => {
  rejects(["--memory=1g", "-m", "2g"], 'option "-m" is given twice', 1);
  rejects(["--net=host", "--network=bridge"], 'option "--network" is given twice', 1);
  rejects(["--privileged", "--privileged=false"], 'option "--privileged" is given twice', 1);
});

Deno.test("parseOptions rejects malformed values, naming the option", () => {
  const cases: [string[], string, number?][] = [
    [
      ["--restart=sometimes"],
      'option "--restart" has malformed value "sometimes": expected no, always, unless-stopped or on-failure[:N]',
    ],
    [
      ["--restart=always:3"],
      'option "--restart" has malformed value "always:3": expected no, always, unless-stopped or on-failure[:N]',
    ],
    [
      ["--memory=lots"],
      'option "--memory" has malformed value "lots": expected a size such as 256m, 1g or a number of bytes',
    ],
    [
      ["-m", "256t"],
      'option "-m" has malformed value "256t": expected a size such as 256m, 1g or a number of bytes',
      1,
    ],
    [
      ["--shm-size=0"],
      'option "--shm-size" has malformed value "0": expected a size such as 256m, 1g or a number of bytes',
    ],
    [
      ["--cpus=0"],
      'option "--cpus" has malformed value "0": expected a number of CPUs greater than 0, such as 0.5 or 2',
    ],
    [
      ["--cpus=-1"],
      'option "--cpus" has malformed value "-1": expected a number of CPUs greater than 0, such as 0.5 or 2',
    ],
    [
      ["--privileged=yes"],
      'option "--privileged" has malformed value "yes": expected true or false',
    ],
    [
      ["--privileged true"],
      'option "--privileged" takes no separate value (write --privileged=true or --privileged=false)',
    ],
    [
      ["-v", "/data"],
      'option "-v" has malformed value "/data": expected SOURCE:/PATH[:MODES], such as /srv/data:/data:ro',
      1,
    ],
    [
      ["-v=./data:/data"],
      'option "-v" has malformed value "./data:/data": the source must be an absolute host path or a volume name',
    ],
    [
      ["--volume=/srv:data"],
      'option "--volume" has malformed value "/srv:data": the target must be an absolute path',
    ],
    [
      ["--volume=/srv:/data:rx"],
      'option "--volume" has malformed value "/srv:/data:rx": unknown mode "rx" (expected ro, rw, z, Z, ...)',
    ],
    [
      ["--add-host=db"],
      'option "--add-host" has malformed value "db": expected NAME:IP, such as db:10.0.0.5 or gw:host-gateway',
    ],
    [
      ["--add-host=db:10.0.0"],
      'option "--add-host" has malformed value "db:10.0.0": expected NAME:IP, such as db:10.0.0.5 or gw:host-gateway',
    ],
    [
      ["--device=sda"],
      'option "--device" has malformed value "sda": expected /HOST/PATH[:/CONTAINER/PATH][:PERMISSIONS of r, w, m]',
    ],
    [
      ["--device=/dev/sda:/dev/xvda:rwx"],
      'option "--device" has malformed value "/dev/sda:/dev/xvda:rwx": expected /HOST/PATH[:/CONTAINER/PATH][:PERMISSIONS of r, w, m]',
    ],
    [
      ["--device=/dev/sda:rr"],
      'option "--device" has malformed value "/dev/sda:rr": expected /HOST/PATH[:/CONTAINER/PATH][:PERMISSIONS of r, w, m]',
    ],
    [
      ["--tmpfs=run"],
      'option "--tmpfs" has malformed value "run": expected /PATH[:OPTIONS], such as /run:size=64m',
    ],
    [["--tmpfs=/run", "--tmpfs=/run:size=1m"], 'option "--tmpfs" mounts "/run" twice', 1],
    [
      ["--hostname=-web"],
      `option "--hostname" has malformed value "-web": expected a host name of up to 63 letters, digits, '-' and '.'`,
    ],
    [
      ["--hostname=web_1"],
      `option "--hostname" has malformed value "web_1": expected a host name of up to 63 letters, digits, '-' and '.'`,
    ],
    [
      ["--cap-add=NET ADMIN"],
      'option "--cap-add" has malformed value "NET ADMIN": expected a capability such as NET_ADMIN or ALL',
    ],
    [
      ["--security-opt=Bad"],
      'option "--security-opt" has malformed value "Bad": expected KEY or KEY=VALUE, such as no-new-privileges',
    ],
    [
      ["--security-opt=seccomp=/etc/profile.json"],
      'option "--security-opt" has malformed value "seccomp=/etc/profile.json": seccomp takes unconfined or an inline JSON profile, not a file',
    ],
    [
      ["--ipc=shared"],
      'option "--ipc" has malformed value "shared": expected none, private, shareable, host or container:NAME',
    ],
    [
      ["--net=bad net"],
      'option "--net" has malformed value "bad net": expected bridge, host, none, container:NAME or a network name',
    ],
    [
      ["--ulimit=nofile"],
      'option "--ulimit" has malformed value "nofile": expected NAME=SOFT[:HARD], such as nofile=1024:2048',
    ],
    [
      ["--ulimit=files=10"],
      'option "--ulimit" has malformed value "files=10": unknown ulimit "files"',
    ],
    [
      ["--ulimit=nofile=2048:1024"],
      'option "--ulimit" has malformed value "nofile=2048:1024": the soft limit must not exceed the hard limit',
    ],
    [
      ["--ulimit=nofile=-1:1024"],
      'option "--ulimit" has malformed value "nofile=-1:1024": the soft limit must not exceed the hard limit',
    ],
    [["--ulimit=nproc=1", "--ulimit=nproc=2"], 'option "--ulimit" sets ulimit "nproc" twice', 1],
    [
      ["--dns=dns.google"],
      'option "--dns" has malformed value "dns.google": expected an IP address',
    ],
    [
      ["--dns-search=bad domain"],
      'option "--dns-search" has malformed value "bad domain": expected a domain name',
    ],
    [
      ["--label==x"],
      'option "--label" has malformed value "=x": expected KEY=VALUE or KEY',
    ],
    [
      ["--label=launcher.manifest=x"],
      'option "--label" has malformed value "launcher.manifest=x": label keys starting with "launcher." are reserved',
    ],
    [["-l=a=1", "--label=a=2"], 'option "--label" sets label "a" twice', 1],
  ];
  for (const [options, message, index = 0] of cases) rejects(options, message, index);
});

Deno.test("normalizeOptions spells every option one way, in the order given", () => {
  assert.deepEqual(
    normalizeOptions(["-m", "1g", "--net host", "-v=/a:/a", "--volume", "/b:/b", "--privileged"]),
    ["--memory=1g", "--network=host", "--volume=/a:/a", "--volume=/b:/b", "--privileged=true"],
  );
  assert.throws(() => normalizeOptions(["--bogus"]), OptionError);
});

Deno.test("readOptions reads a list once: spelling, settings and where each flag is", () => {
  assert.deepEqual(readOptions(["-m", "1g", "--restart always", "-l=a=b"]), {
    options: ["--memory=1g", "--restart=always", "--label=a=b"],
    run: { memory: 1024 ** 3, restart: { name: "always" }, labels: { a: "b" } },
    uses: [
      { name: "--memory", value: "1g", index: 0 },
      { name: "--restart", value: "always", index: 2 },
      { name: "--label", value: "a=b", index: 3 },
    ],
  });
});
