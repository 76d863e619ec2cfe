// Writes the CNI binary's modules as plain JavaScript (.mjs) into a folder, so the
// installed launcher starts without Node's TypeScript loader. Loading .ts sources costs
// about 100 ms at every start, because Node 24 initialises its WebAssembly type stripper
// on first use. A runtime runs the binary for every pod, so the install step pays it once.
//
// Usage: node cni/compile.ts OUT_DIR
import { stripTypeScriptTypes } from "node:module";
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Modules of the binary; compile.ts itself is a build tool and not part of it. */
const SKIP = new Set(["compile.ts"]);

export function compileCni(outDir: string): string[] {
  const sourceDir = dirname(fileURLToPath(import.meta.url));
  const staging = `${outDir}.tmp`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const written: string[] = [];
  for (const file of readdirSync(sourceDir)) {
    if (!file.endsWith(".ts") || SKIP.has(file)) continue;
    const source = readFileSync(join(sourceDir, file), "utf8");
    const code = stripTypeScriptTypes(source, { mode: "strip" });
    const relinked = code.replace(/(from\s+["']\.\/[^"']+)\.ts(["'])/g, "$1.mjs$2").replace(/(import\s*\(\s*["']\.\/[^"']+)\.ts(["'])/g, "$1.mjs$2");
    const target = file.replace(/\.ts$/, ".mjs");
    writeFileSync(join(staging, target), relinked);
    written.push(target);
  }
  // Swap the folder in one rename, so a launcher starting meanwhile never loads a half-written set.
  rmSync(outDir, { recursive: true, force: true });
  renameSync(staging, outDir);
  return written;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outDir = process.argv[2];
  if (outDir === undefined) {
    console.error("usage: node cni/compile.ts OUT_DIR");
    process.exit(2);
  }
  console.log(`compiled ${compileCni(outDir).length} modules into ${outDir}`);
}
