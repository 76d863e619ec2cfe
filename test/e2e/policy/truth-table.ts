// Expected connectivity for the policy conformance matrix, built from a predicate that states
// the NetworkPolicy semantics of one scenario, and the comparison with what the probes saw.
// The expectation never comes from probe output.
import type { PortSpec, ReachabilityMatrix } from "../../cluster/index.ts";

/** One probed pod: its namespace and name, as in the matrix key "namespace/name". */
export interface MatrixPod {
  namespace: string;
  name: string;
}

/** Whether traffic from `from` to `to` on `port` is allowed in one scenario. */
export type Reachability = (from: MatrixPod, to: MatrixPod, port: PortSpec) => boolean;

/** Cell-by-cell disagreement between an expected and an observed matrix. */
export interface MatrixDiff {
  /** True when every cell of every port agrees and no cell is missing. */
  equal: boolean;
  /** Expected and observed truth tables side by side, with the wrong cells marked. */
  text: string;
}

/**
 * Adds the loopback rule to a scenario: a pod always reaches itself, whatever the policies.
 * A packet from a pod to its own address never leaves the pod's network namespace: Linux
 * delivers it over the loopback device, so it never reaches OVS and no policy can apply.
 */
export function withLoopback(expected: Reachability): Reachability {
  return (from, to, port) => (from.namespace === to.namespace && from.name === to.name) || expected(from, to, port);
}

/** Returns a truth-table cell: '.' reachable, 'X' blocked, '?' not probed. */
function cellMark(value: boolean | undefined): string {
  if (value === undefined) return "?";
  return value ? "." : "X";
}

/** Splits "namespace/name". */
export function parseMatrixKey(key: string): MatrixPod {
  const slash = key.indexOf("/");
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/**
 * Compares every cell of `observed` with `expected`. A cell the probes did not fill counts as
 * a difference, so a pod missing from the matrix cannot pass. `pods` are the keys that must
 * appear as rows and columns.
 */
export function diffMatrix(options: { pods: readonly string[]; observed: ReachabilityMatrix; expected: Reachability; ports: readonly PortSpec[] }): MatrixDiff {
  const { pods, observed, expected } = options;
  let equal = observed.pods.length === pods.length && pods.every((pod) => observed.pods.includes(pod));
  const sections: string[] = [];
  for (const port of options.ports) {
    const table = observed.ports.find((entry) => entry.port === port.port && entry.protocol === port.protocol);
    const lines = [`${port.protocol.toUpperCase()}/${port.port} (expected/observed, '!' marks a wrong cell)`, ["-", ...pods].join("\t")];
    for (const from of pods) {
      const cells = pods.map((to) => {
        const want = expected(parseMatrixKey(from), parseMatrixKey(to), port);
        const got = table?.reachable[from]?.[to];
        if (got !== want) equal = false;
        return got === want ? cellMark(want) : `${cellMark(want)}/${cellMark(got)}!`;
      });
      lines.push([from, ...cells].join("\t"));
    }
    sections.push(lines.join("\n"));
  }
  return { equal, text: sections.join("\n\n") };
}
