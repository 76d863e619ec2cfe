// yardctl: the operator's command line for Switchyard's OpenFlow codec. Output matches
// ovs-ofctl's text so it can be diffed with it.
//
//   yardctl ofp encode [-O OpenFlow13|OpenFlow15] FLOW...   one FLOW_MOD (add) per flow, as hex (default OpenFlow15)
//   yardctl ofp decode HEX...                               ofp-print text of each message
//   yardctl ofp dump-flows SWITCH [--table N]               flows, as ovs-ofctl dump-flows prints them
//   yardctl ofp dump-groups SWITCH                          groups, as ovs-ofctl dump-groups prints them
//
// FLOW or HEX "-" reads one item per line from stdin. SWITCH is unix:PATH, tcp:HOST:PORT or
// the path of a bridge's .mgmt socket.
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { OpenFlowConnection } from "../connection/connection.ts";
import { encodeMessage } from "../messages/codec.ts";
import { flowModFromText } from "../messages/flow-mod-text.ts";
import type { OpenFlowMessage } from "../messages/types.ts";
import { describeMessageBytes, formatMessage } from "../print/ofp-print.ts";
import { OpenFlowVersion } from "../version.ts";

/** Bad input found after argument parsing (a flow or hex string); exit status 1. */
class CliInputError extends Error {
  readonly code = "ERR_YARDCTL_INPUT";
}

export interface CliIo {
  argv: readonly string[];
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
}

function parseVersionName(text: string): OpenFlowVersion {
  if (text === "OpenFlow13") return OpenFlowVersion.OF13;
  if (text === "OpenFlow15") return OpenFlowVersion.OF15;
  throw new InvalidArgumentError(`unsupported OpenFlow version "${text}"; use OpenFlow13 or OpenFlow15`);
}

function parseTable(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 254) {
    throw new InvalidArgumentError(`table "${text}" is not a number from 0 to 254`);
  }
  return value;
}

/** Returns the items, or the non-empty lines of stdin when the only item is "-". */
async function expandItems(items: readonly string[], stdin: Readable): Promise<string[]> {
  if (items.length !== 1 || items[0] !== "-") return [...items];
  const lines: string[] = [];
  for await (const line of createInterface({ input: stdin, crlfDelay: Infinity })) {
    const trimmed = line.trim();
    if (trimmed !== "" && !trimmed.startsWith("#")) lines.push(trimmed);
  }
  return lines;
}

function write(stream: Writable, text: string): void {
  stream.write(text);
}

async function encodeCommand(io: CliIo, flows: readonly string[], version: OpenFlowVersion): Promise<void> {
  let xid = 1;
  for (const text of await expandItems(flows, io.stdin)) {
    const message = { ...flowModFromText(text, { version }), version, xid } as OpenFlowMessage;
    xid += 1;
    write(io.stdout, `${encodeMessage(message).toString("hex")}\n`);
  }
}

/**
 * Prints every message as ovs-ofctl ofp-print does, bad ones included, then fails with
 * status 1 if any message was empty, truncated, overlong or undecodable.
 */
async function decodeCommand(io: CliIo, items: readonly string[]): Promise<void> {
  const fromStdin = items.length === 1 && items[0] === "-";
  const results = (await expandItems(items, io.stdin)).map((hex) => {
    const clean = hex.replace(/\s+/g, "");
    if (!/^([0-9a-fA-F]{2})*$/.test(clean)) {
      throw new CliInputError(`"${hex.slice(0, 40)}" is not hex; give each message as pairs of hex digits`);
    }
    return describeMessageBytes(Buffer.from(clean, "hex"));
  });
  write(io.stdout, results.map((result) => result.text).join(fromStdin ? "\n" : ""));
  const invalid = results.flatMap((result, index) => (result.valid ? [] : [index + 1]));
  if (invalid.length > 0) {
    throw new CliInputError(`message ${invalid.join(", ")} of ${results.length} is not a valid OpenFlow message; its report and hex dump are on stdout`);
  }
}

async function withSwitch<T>(address: string, versions: readonly OpenFlowVersion[] | undefined, run: (c: OpenFlowConnection) => Promise<T>): Promise<T> {
  const connection = await OpenFlowConnection.connect({
    address,
    reconnect: false,
    echoIntervalMs: 0,
    ...(versions === undefined ? {} : { versions }),
  });
  try {
    return await run(connection);
  } finally {
    await connection.close();
  }
}

async function dumpFlowsCommand(io: CliIo, address: string, options: { table?: number; versions?: OpenFlowVersion[] }): Promise<void> {
  const text = await withSwitch(address, options.versions, async (connection) => {
    const reply = await connection.request({
      kind: "multipart_request",
      flags: 0,
      body: {
        stat: "flow",
        tableId: options.table ?? 0xff,
        outPort: 0xffffffff,
        outGroup: 0xffffffff,
        cookie: 0n,
        cookieMask: 0n,
        match: { entries: [] },
      },
    });
    return formatMessage(reply);
  });
  write(io.stdout, text);
}

async function dumpGroupsCommand(io: CliIo, address: string, options: { versions?: OpenFlowVersion[] }): Promise<void> {
  const text = await withSwitch(address, options.versions, async (connection) => {
    const reply = await connection.request({ kind: "multipart_request", flags: 0, body: { stat: "group_desc", groupId: 0xfffffffc } });
    return formatMessage(reply);
  });
  write(io.stdout, text);
}

function buildProgram(io: CliIo): Command {
  const program = new Command("yardctl")
    .description("Switchyard operator tool")
    .exitOverride()
    .configureOutput({ writeOut: (s) => write(io.stdout, s), writeErr: (s) => write(io.stderr, s) });
  const ofp = program.command("ofp").description("encode, decode and dump OpenFlow messages as ovs-ofctl prints them");
  const versionOption = ["-O, --protocol <version>", "OpenFlow version: OpenFlow13 or OpenFlow15", parseVersionName] as const;
  // The default's description names the version; the parsed value is the wire number 6.
  const encodeVersionOption = new Option(versionOption[0], versionOption[1]).argParser(versionOption[2]).default(OpenFlowVersion.OF15, "OpenFlow15");

  ofp
    .command("encode")
    .description("print the FLOW_MOD (add) of each flow as one line of hex; '-' reads flows from stdin")
    .argument("<flow...>", "flows in ovs-ofctl syntax")
    .addOption(encodeVersionOption)
    .action((flows: string[], options: { protocol: OpenFlowVersion }) => encodeCommand(io, flows, options.protocol));

  ofp
    .command("decode")
    .description("print each hex message as ovs-ofctl ofp-print does; '-' reads one message per line from stdin")
    .argument("<hex...>", "messages in hex")
    .action((items: string[]) => decodeCommand(io, items));

  ofp
    .command("dump-flows")
    .description("print the switch's flows as ovs-ofctl dump-flows does")
    .argument("<switch>", "unix:PATH, tcp:HOST:PORT or a .mgmt socket path")
    .option("--table <n>", "only this table (0-254)", parseTable)
    .addOption(new Option(versionOption[0], `${versionOption[1]} (default: the highest both sides support)`).argParser(versionOption[2]))
    .action((address: string, options: { table?: number; protocol?: OpenFlowVersion }) =>
      dumpFlowsCommand(io, address, {
        ...(options.table === undefined ? {} : { table: options.table }),
        ...(options.protocol === undefined ? {} : { versions: [options.protocol] }),
      }),
    );

  ofp
    .command("dump-groups")
    .description("print the switch's groups as ovs-ofctl dump-groups does")
    .argument("<switch>", "unix:PATH, tcp:HOST:PORT or a .mgmt socket path")
    .addOption(new Option(versionOption[0], `${versionOption[1]} (default: the highest both sides support)`).argParser(versionOption[2]))
    .action((address: string, options: { protocol?: OpenFlowVersion }) =>
      dumpGroupsCommand(io, address, options.protocol === undefined ? {} : { versions: [options.protocol] }),
    );
  return program;
}

/** Runs yardctl and returns its exit status: 0 on success, 1 on a failure, 2 on a usage error. */
export async function runYardctl(io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...io.argv], { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    write(io.stderr, `yardctl: ${(error as Error).message}\n`);
    return 1;
  }
}
