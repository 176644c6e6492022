/** Reading a password: from standard input, or typed at a terminal without echo. */
import { UsageError } from "./errors.ts";

/** Reads all of standard input and returns its first line. */
export async function passwordFromStdin(): Promise<string> {
  const text = await new Response(Deno.stdin.readable).text();
  const line = text.split(/\r?\n/)[0];
  if (!line) throw new UsageError("no password on standard input");
  return line;
}

/** Asks for a password on the terminal, echoing nothing. */
export async function promptPassword(question: string): Promise<string> {
  if (!Deno.stdin.isTerminal()) {
    throw new UsageError(
      "standard input is not a terminal: pass the password with --password-stdin",
    );
  }
  const encoder = new TextEncoder();
  Deno.stderr.writeSync(encoder.encode(question));
  Deno.stdin.setRaw(true);
  const bytes: number[] = [];
  const buffer = new Uint8Array(64);
  try {
    read: while (true) {
      const n = await Deno.stdin.read(buffer);
      if (n === null) break;
      for (const byte of buffer.subarray(0, n)) {
        if (byte === 13 || byte === 10) break read;
        if (byte === 3) throw new UsageError("cancelled");
        if (byte === 127 || byte === 8) bytes.pop();
        else bytes.push(byte);
      }
    }
  } finally {
    Deno.stdin.setRaw(false);
    Deno.stderr.writeSync(encoder.encode("\n"));
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}
