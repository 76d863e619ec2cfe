// Preloaded into a benchmarked process (NODE_OPTIONS="--expose-gc --import <this file>"):
// SIGUSR2 runs a full garbage collection, so a heap figure read afterwards counts live objects only.
// Without --expose-gc it does nothing, and SIGUSR2 keeps its default action (the process exits).
const collect = (globalThis as { gc?: () => void }).gc;
if (collect !== undefined) process.on("SIGUSR2", () => collect());
