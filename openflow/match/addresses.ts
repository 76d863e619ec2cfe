// Text forms of IPv4, IPv6 and Ethernet addresses as ovs-ofctl reads and prints them.
// IPv6 printing follows glibc's inet_ntop (which OVS 3.1 calls): the longest run of two or
// more zero groups becomes "::", and an address whose first 96 bits are zero, or which is
// IPv4-mapped, ends in dotted IPv4.

export function parseIpv4(text: string): Buffer | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const bytes = Buffer.alloc(4);
  for (const [index, part] of parts.entries()) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    bytes[index] = octet;
  }
  return bytes;
}

export function formatIpv4(bytes: Buffer): string {
  return [...bytes.subarray(0, 4)].join(".");
}

function parseIpv6Groups(text: string): number[] | undefined {
  if (text === "") return [];
  const groups: number[] = [];
  const parts = text.split(":");
  for (const [index, part] of parts.entries()) {
    const isLast = index === parts.length - 1;
    if (isLast && part.includes(".")) {
      const ipv4 = parseIpv4(part);
      if (!ipv4) return undefined;
      groups.push(ipv4.readUInt16BE(0), ipv4.readUInt16BE(2));
      continue;
    }
    if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return undefined;
    groups.push(parseInt(part, 16));
  }
  return groups;
}

export function parseIpv6(text: string): Buffer | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = parseIpv6Groups(halves[0] ?? "");
  const tail = halves.length === 2 ? parseIpv6Groups(halves[1] ?? "") : [];
  if (!head || !tail) return undefined;

  const explicit = head.length + tail.length;
  if (halves.length === 1 ? explicit !== 8 : explicit > 7) return undefined;

  const groups = [...head, ...new Array<number>(8 - explicit).fill(0), ...tail];
  const bytes = Buffer.alloc(16);
  groups.forEach((group, index) => bytes.writeUInt16BE(group, index * 2));
  return bytes;
}

function longestZeroRun(words: number[]): { base: number; length: number } {
  let best = { base: -1, length: 0 };
  let current = { base: -1, length: 0 };
  words.forEach((word, index) => {
    if (word === 0) {
      current = current.base === -1 ? { base: index, length: 1 } : { base: current.base, length: current.length + 1 };
      if (current.length > best.length) best = current;
    } else {
      current = { base: -1, length: 0 };
    }
  });
  return best.length < 2 ? { base: -1, length: 0 } : best;
}

export function formatIpv6(bytes: Buffer): string {
  const words = Array.from({ length: 8 }, (_, index) => bytes.readUInt16BE(index * 2));
  const run = longestZeroRun(words);
  const embedsIpv4 = run.base === 0 && (run.length === 6 || (run.length === 5 && words[5] === 0xffff));

  let text = "";
  for (let index = 0; index < 8; index++) {
    if (index === run.base) {
      text += "::";
      index += run.length - 1;
      continue;
    }
    if (index === 6 && embedsIpv4) {
      if (!text.endsWith(":")) text += ":";
      text += formatIpv4(bytes.subarray(12, 16));
      break;
    }
    if (text !== "" && !text.endsWith(":")) text += ":";
    text += (words[index] ?? 0).toString(16);
  }
  return text;
}

export function parseEthernet(text: string): Buffer | undefined {
  const parts = text.split(":");
  if (parts.length !== 6) return undefined;
  const bytes = Buffer.alloc(6);
  for (const [index, part] of parts.entries()) {
    if (!/^[0-9a-fA-F]{1,2}$/.test(part)) return undefined;
    bytes[index] = parseInt(part, 16);
  }
  return bytes;
}

export function formatEthernet(bytes: Buffer): string {
  return [...bytes.subarray(0, 6)].map((octet) => octet.toString(16).padStart(2, "0")).join(":");
}

/** Returns a mask of `bytes` bytes whose first `prefixLength` bits are set. */
export function prefixMask(prefixLength: number, bytes: number): Buffer {
  const mask = Buffer.alloc(bytes);
  for (let bit = 0; bit < prefixLength; bit++) {
    const index = bit >> 3;
    mask[index] = (mask[index] ?? 0) | (0x80 >> (bit & 7));
  }
  return mask;
}

/** Returns the prefix length when `mask` is a contiguous run of leading ones, else undefined. */
export function prefixLengthOf(mask: Buffer): number | undefined {
  let length = 0;
  let seenZero = false;
  for (const octet of mask) {
    for (let bit = 7; bit >= 0; bit--) {
      const isSet = ((octet >> bit) & 1) === 1;
      if (isSet && seenZero) return undefined;
      if (isSet) length++;
      else seenZero = true;
    }
  }
  return length;
}
