import assert from "node:assert/strict";
import { formatPort, parsePort, PortError } from "../../src/manifest/ports.ts";

Deno.test("parsePort accepts every documented form", () => {
  const cases: [string, ReturnType<typeof parsePort>][] = [
    ["80", { containerPort: 80, protocol: "tcp" }],
    ["8080:80", { hostPort: 8080, containerPort: 80, protocol: "tcp" }],
    ["8080:80/tcp", { hostPort: 8080, containerPort: 80, protocol: "tcp" }],
    ["53/udp", { containerPort: 53, protocol: "udp" }],
    ["9000:9000/sctp", { hostPort: 9000, containerPort: 9000, protocol: "sctp" }],
    [
      "127.0.0.1:5353:53/udp",
      { hostIp: "127.0.0.1", hostPort: 5353, containerPort: 53, protocol: "udp" },
    ],
    ["127.0.0.1::80", { hostIp: "127.0.0.1", containerPort: 80, protocol: "tcp" }],
    ["[::1]:8080:80", { hostIp: "::1", hostPort: 8080, containerPort: 80, protocol: "tcp" }],
    ["[::]::80/udp", { hostIp: "::", containerPort: 80, protocol: "udp" }],
    ["1:65535", { hostPort: 1, containerPort: 65535, protocol: "tcp" }],
  ];
  for (const [text, expected] of cases) assert.deepEqual(parsePort(text), expected, text);
});

Deno.test("parsePort rejects anything else with a precise message", () => {
  const cases: [string, string][] = [
    ["", 'port "" is empty'],
    ["99999:80", 'port "99999:80" has host port 99999 out of range 1-65535'],
    ["0", 'port "0" has container port 0 out of range 1-65535'],
    ["80:65536", 'port "80:65536" has container port 65536 out of range 1-65535'],
    ["x", 'port "x" has container port "x" that is not a number'],
    ["http:80", 'port "http:80" has host port "http" that is not a number'],
    ["80/http", 'port "80/http" has unknown protocol "http" (expected tcp, udp or sctp)'],
    ["80/TCP", 'port "80/TCP" has unknown protocol "TCP" (expected tcp, udp or sctp)'],
    ["8080:", 'port "8080:" has an empty container port'],
    [":80", 'port ":80" has an empty host port (write "127.0.0.1::80" or "80")'],
    ["8000-8010:80", 'port "8000-8010:80" has host port range 8000-8010; ranges are not supported'],
    ["8080 :80", 'port "8080 :80" contains whitespace'],
    ["1.2.3:80:80", 'port "1.2.3:80:80" has host IP "1.2.3" that is not an IPv4 address'],
    [
      "256.0.0.1:80:80",
      'port "256.0.0.1:80:80" has host IP "256.0.0.1" that is not an IPv4 address',
    ],
    [
      "::1:8080:80",
      'port "::1:8080:80" has an IPv6 host IP without brackets (write it as "[::1]:8080:80")',
    ],
    ["1:2:3:4", 'port "1:2:3:4" is not of the form [ip:][hostPort:]containerPort[/tcp|udp|sctp]'],
    ["[::1:8080:80", 'port "[::1:8080:80" has an IPv6 address without a closing "]"'],
    ["[1.2.3.4]:80:80", 'port "[1.2.3.4]:80:80" has host IP "1.2.3.4" that is not IPv6'],
    ["[::1]:80", 'port "[::1]:80" is not of the form [ip:][hostPort:]containerPort[/tcp|udp|sctp]'],
    [
      "[::1]8080:80",
      'port "[::1]8080:80" must continue with ":" after "]" (expected [ip:][hostPort:]containerPort[/tcp|udp|sctp])',
    ],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parsePort(text), (error) => {
      assert.ok(error instanceof PortError, text);
      assert.equal(error.message, message);
      assert.equal(error.code, "invalid_port");
      return true;
    });
  }
});

Deno.test("formatPort writes the canonical form that parses back to the same binding", () => {
  const cases: [string, string][] = [
    ["80", "80/tcp"],
    ["8080:80", "8080:80/tcp"],
    ["127.0.0.1::80", "127.0.0.1::80/tcp"],
    ["[::1]:8080:53/udp", "[::1]:8080:53/udp"],
  ];
  for (const [text, canonical] of cases) {
    assert.equal(formatPort(parsePort(text)), canonical);
    assert.deepEqual(parsePort(canonical), parsePort(text));
  }
});
