/** Port bindings as written in a manifest (`[ip:][hostPort:]containerPort[/protocol]`). */
import { quote } from "./describe.ts";
import { LauncherError } from "../errors.ts";
import { isIpv4, isIpv6 } from "./ip_address.ts";

/** The transport protocols the engine can publish. */
export const PROTOCOLS = ["tcp", "udp", "sctp"] as const;
/** One of {@link PROTOCOLS}. */
export type Protocol = typeof PROTOCOLS[number];

/** One published port: where the engine listens on the host and where it forwards to. */
export interface PortBinding {
  /** Host address to listen on; absent means every address. */
  hostIp?: string;
  /** Host port; absent means the engine picks a free one. */
  hostPort?: number;
  containerPort: number;
  protocol: Protocol;
}

/** A port binding that cannot be parsed. */
export class PortError extends LauncherError {
  constructor(message: string) {
    super("invalid_port", message);
  }
}

const FORMS = "[ip:][hostPort:]containerPort[/tcp|udp|sctp]";

/** Parses one port binding; throws {@link PortError} with a precise message on anything else. */
export function parsePort(text: string): PortBinding {
  const quoted = quote(text);
  if (text === "") throw new PortError(`port "" is empty`);
  if (/\s/.test(text)) throw new PortError(`port ${quoted} contains whitespace`);

  const slash = text.indexOf("/");
  const address = slash < 0 ? text : text.slice(0, slash);
  const protocol = slash < 0 ? "tcp" : text.slice(slash + 1);
  if (!isProtocol(protocol)) {
    throw new PortError(
      `port ${quoted} has unknown protocol ${quote(protocol)} (expected tcp, udp or sctp)`,
    );
  }

  let hostIp: string | undefined;
  let ports: string[];
  if (address.startsWith("[")) {
    const close = address.indexOf("]");
    if (close < 0) throw new PortError(`port ${quoted} has an IPv6 address without a closing "]"`);
    hostIp = address.slice(1, close);
    if (!isIpv6(hostIp)) {
      throw new PortError(`port ${quoted} has host IP ${quote(hostIp)} that is not IPv6`);
    }
    if (address[close + 1] !== ":") {
      throw new PortError(`port ${quoted} must continue with ":" after "]" (expected ${FORMS})`);
    }
    ports = address.slice(close + 2).split(":");
    if (ports.length !== 2) {
      throw new PortError(`port ${quoted} is not of the form ${FORMS}`);
    }
  } else {
    const parts = address.split(":");
    if (parts.length > 3) {
      throw new PortError(
        isIpv6(parts.slice(0, -2).join(":"))
          ? `port ${quoted} has an IPv6 host IP without brackets (write it as "[::1]:8080:80")`
          : `port ${quoted} is not of the form ${FORMS}`,
      );
    }
    if (parts.length === 3) {
      hostIp = parts[0];
      if (!isIpv4(hostIp)) {
        throw new PortError(
          `port ${quoted} has host IP ${quote(hostIp)} that is not an IPv4 address`,
        );
      }
    }
    ports = parts.slice(-2);
  }

  const containerText = ports[ports.length - 1];
  const hostText = ports.length === 2 ? ports[0] : undefined;
  // An empty host port means "any free port", which the engine only accepts after an address.
  if (hostText === "" && hostIp === undefined) {
    throw new PortError(`port ${quoted} has an empty host port (write "127.0.0.1::80" or "80")`);
  }
  const containerPort = portNumber(quoted, "container", containerText);
  const binding: PortBinding = { containerPort, protocol };
  if (hostIp !== undefined) binding.hostIp = hostIp;
  if (hostText) binding.hostPort = portNumber(quoted, "host", hostText);
  return binding;
}

/** Formats a binding in its canonical text form, e.g. `127.0.0.1:8080:80/tcp`. */
export function formatPort(binding: PortBinding): string {
  const ip = binding.hostIp === undefined
    ? ""
    : binding.hostIp.includes(":")
    ? `[${binding.hostIp}]:`
    : `${binding.hostIp}:`;
  const host = binding.hostPort === undefined ? (ip ? ":" : "") : `${binding.hostPort}:`;
  return `${ip}${host}${binding.containerPort}/${binding.protocol}`;
}

function isProtocol(text: string): text is Protocol {
  return (PROTOCOLS as readonly string[]).includes(text);
}

function portNumber(quoted: string, role: "host" | "container", text: string): number {
  if (text === "") throw new PortError(`port ${quoted} has an empty ${role} port`);
  if (/^\d+-\d+$/.test(text)) {
    throw new PortError(`port ${quoted} has ${role} port range ${text}; ranges are not supported`);
  }
  if (!/^\d+$/.test(text)) {
    throw new PortError(
      `port ${quoted} has ${role} port ${quote(text)} that is not a number`,
    );
  }
  const port = Number(text);
  if (port < 1 || port > 65535) {
    throw new PortError(`port ${quoted} has ${role} port ${text} out of range 1-65535`);
  }
  return port;
}
