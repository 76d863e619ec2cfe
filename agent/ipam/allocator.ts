// Node-local pod address allocation from the node's pod CIDRs, persisted to a store file.
import { readFileSync, renameSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { CidrError, containsAddress, familyOf, formatAddress, hostMask, parseAddress, parseCidr } from "../../common/net/cidr.ts";
import type { Cidr, IPFamily } from "../../common/net/cidr.ts";

/** One address given to an attachment, with the facts the pod needs to use it. */
export type AllocatedAddress = {
  family: IPFamily;
  address: string;
  prefixLength: number;
  gateway: string;
};

export type NodeIpamOptions = {
  /** At most one IPv4 and one IPv6 prefix, e.g. ["10.244.1.0/24", "fd00:10:244:1::/64"]. */
  podCidrs: readonly string[];
  /** JSON file that keeps the allocations across restarts; written atomically on every change. */
  storePath: string;
};

export const IpamErrorCode = {
  EXHAUSTED: "IPAM_EXHAUSTED",
  CONFLICT: "IPAM_CONFLICT",
  INVALID: "IPAM_INVALID",
  STORE: "IPAM_STORE",
} as const;
export type IpamErrorCodeValue = (typeof IpamErrorCode)[keyof typeof IpamErrorCode];

export class IpamError extends Error {
  readonly code: IpamErrorCodeValue;
  constructor(code: IpamErrorCodeValue, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "IpamError";
    this.code = code;
  }
}

type Pool = {
  cidr: Cidr;
  cidrText: string;
  gateway: bigint;
  first: bigint;
  last: bigint;
  /** Address (as integer) to owner. */
  used: Map<bigint, string>;
  /** The last address handed out; the next search starts after it, so a released address is not reused at once. */
  cursor: bigint;
};

type StoreFile = { version: 1; allocations: Record<string, string[]>; cursors?: Record<string, string> };

/**
 * Allocates pod addresses for one node. Every method runs synchronously and writes the
 * store file before returning, so calls from concurrent requests cannot interleave and a
 * crash after a call returns loses nothing. The gateway is the first host address of
 * each prefix; the network address and, for IPv4, the broadcast address are never given out.
 */
export class NodeIpam {
  readonly #pools: Pool[];
  readonly #storePath: string;
  readonly #owners = new Map<string, AllocatedAddress[]>();
  #loading = false;

  private constructor(pools: Pool[], storePath: string) {
    this.#pools = pools;
    this.#storePath = storePath;
  }

  /** Builds the allocator and loads the store file when it exists. Throws IpamError for invalid prefixes or a corrupt store. */
  static open(options: NodeIpamOptions): NodeIpam {
    const pools = buildPools(options.podCidrs);
    const ipam = new NodeIpam(pools, options.storePath);
    ipam.#load();
    return ipam;
  }

  /** Returns the gateway of each family, for the pod flows and the node's gateway interface. */
  gateways(): { family: IPFamily; address: string; prefixLength: number }[] {
    return this.#pools.map((pool) => ({ family: pool.cidr.family, address: formatAddress(pool.cidr.family, pool.gateway), prefixLength: pool.cidr.prefixLength }));
  }

  /**
   * Returns one address per configured family for `owner`. Idempotent: an owner that
   * already has addresses gets the same ones again. All-or-nothing: when one family is
   * exhausted, nothing is allocated and IpamError EXHAUSTED names the prefix.
   */
  allocate(owner: string): AllocatedAddress[] {
    const existing = this.#owners.get(owner);
    if (existing !== undefined) return existing;

    const picked: { pool: Pool; value: bigint }[] = [];
    for (const pool of this.#pools) {
      const value = findFree(pool);
      if (value === undefined) {
        throw new IpamError(IpamErrorCode.EXHAUSTED, `pod CIDR ${pool.cidrText} has no free address (${pool.used.size} in use); delete unused pods or give the node a larger pod CIDR`);
      }
      picked.push({ pool, value });
    }
    const addresses = picked.map(({ pool, value }) => {
      pool.used.set(value, owner);
      pool.cursor = value;
      return describeAddress(pool, value);
    });
    this.#owners.set(owner, addresses);
    this.#save();
    return addresses;
  }

  /**
   * Records addresses that an attachment found elsewhere (OVSDB external_ids) already
   * uses. Addresses outside the pod CIDRs are skipped. Throws IpamError CONFLICT when an
   * address belongs to another owner.
   */
  restore(owner: string, addressTexts: readonly string[]): void {
    const addresses: AllocatedAddress[] = [...(this.#owners.get(owner) ?? [])];
    for (const text of addressTexts) {
      const family = familyOf(text);
      if (family === undefined) continue;
      const pool = this.#pools.find((candidate) => containsAddress(candidate.cidr, text));
      if (pool === undefined) continue;
      const value = parseAddress(text);
      const holder = pool.used.get(value);
      if (holder === owner) continue;
      if (holder !== undefined) throw new IpamError(IpamErrorCode.CONFLICT, `address ${text} is recorded for both ${holder} and ${owner}`);
      if (addresses.some((address) => address.family === family)) continue;
      pool.used.set(value, owner);
      addresses.push(describeAddress(pool, value));
    }
    if (addresses.length === 0) return;
    this.#owners.set(owner, addresses);
    this.#save();
  }

  /** Frees the owner's addresses. Idempotent: returns false when the owner had none. */
  release(owner: string): boolean {
    const addresses = this.#owners.get(owner);
    if (addresses === undefined) return false;
    for (const address of addresses) {
      const value = parseAddress(address.address);
      for (const pool of this.#pools) {
        if (pool.used.get(value) === owner) pool.used.delete(value);
      }
    }
    this.#owners.delete(owner);
    this.#save();
    return true;
  }

  /**
   * Runs `change` with the store file written once at the end instead of after each
   * restore or release, so rebuilding N owners writes the file once, not N times. When
   * `change` raises, the file is still written with what it changed before raising.
   */
  batch<T>(change: () => T): T {
    if (this.#loading) return change();
    this.#loading = true;
    try {
      return change();
    } finally {
      this.#loading = false;
      this.#save();
    }
  }

  lookup(owner: string): AllocatedAddress[] | undefined {
    return this.#owners.get(owner);
  }

  owners(): string[] {
    return [...this.#owners.keys()];
  }

  /** Number of addresses in use per prefix. */
  usage(): { cidr: string; used: number; capacity: bigint }[] {
    return this.#pools.map((pool) => ({ cidr: pool.cidrText, used: pool.used.size, capacity: pool.last - pool.first + 1n }));
  }

  #load(): void {
    let text: string;
    try {
      text = readFileSync(this.#storePath, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw new IpamError(IpamErrorCode.STORE, `cannot read IPAM store ${this.#storePath}: ${(error as Error).message}`, { cause: error });
    }
    let store: StoreFile;
    try {
      store = JSON.parse(text) as StoreFile;
    } catch (error) {
      throw new IpamError(IpamErrorCode.STORE, `IPAM store ${this.#storePath} is not valid JSON; move it aside and restart the agent to rebuild it from OVSDB`, { cause: error });
    }
    this.#loading = true;
    try {
      for (const [owner, addresses] of Object.entries(store.allocations ?? {})) this.restore(owner, addresses);
    } finally {
      this.#loading = false;
    }
    for (const pool of this.#pools) {
      const cursor = store.cursors?.[pool.cidrText];
      if (cursor !== undefined && familyOf(cursor) === pool.cidr.family) pool.cursor = parseAddress(cursor);
    }
  }

  #save(): void {
    if (this.#loading) return;
    const store: StoreFile = { version: 1, allocations: {}, cursors: {} };
    for (const [owner, addresses] of this.#owners) store.allocations[owner] = addresses.map((address) => address.address);
    for (const pool of this.#pools) store.cursors![pool.cidrText] = formatAddress(pool.cidr.family, pool.cursor);
    const temporary = `${this.#storePath}.tmp`;
    try {
      mkdirSync(dirname(this.#storePath), { recursive: true, mode: 0o700 });
      writeFileSync(temporary, JSON.stringify(store), { mode: 0o600 });
      renameSync(temporary, this.#storePath);
    } catch (error) {
      throw new IpamError(IpamErrorCode.STORE, `cannot write IPAM store ${this.#storePath}: ${(error as Error).message}`, { cause: error });
    }
  }
}

function buildPools(cidrTexts: readonly string[]): Pool[] {
  if (cidrTexts.length === 0) throw new IpamError(IpamErrorCode.INVALID, "no pod CIDR configured; set at least one IPv4 or IPv6 prefix");
  const pools = cidrTexts.map((text) => {
    const cidr = parsePodCidr(text);
    const maxPrefix = cidr.family === "IPv4" ? 30 : 126;
    if (cidr.prefixLength > maxPrefix) {
      throw new IpamError(IpamErrorCode.INVALID, `pod CIDR ${text} is too small; use a prefix length of at most ${maxPrefix}`);
    }
    const broadcast = cidr.network | hostMask(cidr.family, cidr.prefixLength);
    const gateway = cidr.network + 1n;
    return {
      cidr,
      cidrText: text,
      gateway,
      first: gateway + 1n,
      last: cidr.family === "IPv4" ? broadcast - 1n : broadcast,
      used: new Map<bigint, string>(),
      cursor: gateway,
    };
  });
  for (const family of ["IPv4", "IPv6"] as const) {
    if (pools.filter((pool) => pool.cidr.family === family).length > 1) {
      throw new IpamError(IpamErrorCode.INVALID, `more than one ${family} pod CIDR in ${cidrTexts.join(", ")}; give at most one per family`);
    }
  }
  return pools;
}

/** Parses one configured prefix, turning a syntax error into IpamError INVALID that names the pod CIDR. */
function parsePodCidr(text: string): Cidr {
  try {
    return parseCidr(text);
  } catch (error) {
    if (!(error instanceof CidrError)) throw error;
    throw new IpamError(IpamErrorCode.INVALID, `pod CIDR ${JSON.stringify(text)} is invalid: ${error.reason}`, { cause: error });
  }
}

/** Next-fit search from the cursor, wrapping once. */
function findFree(pool: Pool): bigint | undefined {
  const size = pool.last - pool.first + 1n;
  if (BigInt(pool.used.size) >= size) return undefined;
  let candidate = pool.cursor + 1n;
  for (let step = 0n; step < size; step++) {
    if (candidate > pool.last || candidate < pool.first) candidate = pool.first;
    if (!pool.used.has(candidate)) return candidate;
    candidate++;
  }
  return undefined;
}

function describeAddress(pool: Pool, value: bigint): AllocatedAddress {
  return {
    family: pool.cidr.family,
    address: formatAddress(pool.cidr.family, value),
    prefixLength: pool.cidr.prefixLength,
    gateway: formatAddress(pool.cidr.family, pool.gateway),
  };
}
