// Runs every benchmark file (test/bench/*.bench.ts, or those named on the command line)
// one after another, each in its own Node.js process so one benchmark's heap and timers
// cannot skew the next. Each benchmark prints its own figures.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const benchDir = dirname(fileURLToPath(import.meta.url));
const requested = process.argv.slice(2);
const files = readdirSync(benchDir)
  .filter((name) => name.endsWith(".bench.ts"))
  .filter((name) => requested.length === 0 || requested.some((r) => name.includes(r)))
  .sort();

if (files.length === 0) {
  console.error(`no benchmark matches ${requested.join(", ") || "test/bench/*.bench.ts"}`);
  process.exit(1);
}

let failed = 0;
for (const file of files) {
  console.log(`\n=== ${file}`);
  const result = spawnSync(process.execPath, ["--expose-gc", join(benchDir, file)], { stdio: "inherit" });
  if (result.status !== 0) {
    failed += 1;
    console.error(`benchmark ${file} failed with exit code ${result.status ?? result.signal}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
