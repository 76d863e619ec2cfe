// The README's first command (npm run demo, through build/demo.sh): the Star Wars
// NetworkPolicy demo on a two-node local cluster, with Switchyard attaching the pods,
// tunnelling between the nodes and enforcing the policy in OpenFlow (docs/demo.md).
import { buildDemoProgram } from "../test/labcluster/demo.ts";

await buildDemoProgram({ commandName: "npm run demo --", defaultName: "demo" }).parseAsync(process.argv);
