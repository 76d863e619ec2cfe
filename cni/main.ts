// Entry point of the CNI binary that the runtime executes for every pod.
import { runCni } from "./plugin.ts";

process.exitCode = await runCni({ env: process.env, stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
