// Process entry of bin/yardctl.
import { runYardctl } from "./yardctl.ts";

process.exitCode = await runYardctl({
  argv: process.argv.slice(2),
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
});
