// Splits ovs-ofctl argument text into key/value pairs the way ovs-ofctl does: pairs are
// separated by commas or white space, a key ends at ':', '=', '(' or a separator, and a
// parenthesized value may nest parentheses (e.g. `ct(commit,exec(set_field:1->ct_mark))`).

export interface KeyValue {
  key: string;
  /** The value text; "" when the key stands alone. */
  value: string;
  /** The character that ended the key: ':', '=', '(' or "" when there is no value. */
  delimiter: "" | ":" | "=" | "(";
}

const SEPARATORS = ", \t\r\n";

/** Returns the length of the value starting at `start`, stopping at any of `delimiters`. */
function valueLength(text: string, start: number, delimiters: string): number {
  let n = start;
  while (n < text.length && !delimiters.includes(text.charAt(n))) {
    if (text.charAt(n) !== "(") {
      n++;
      continue;
    }
    let level = 0;
    do {
      const c = text.charAt(n);
      if (c === "(") level++;
      else if (c === ")") level--;
      n++;
    } while (level > 0 && n < text.length);
  }
  return n - start;
}

/** Splits `text` into key/value pairs. Never throws; unbalanced parentheses end the value. */
export function splitKeyValues(text: string): KeyValue[] {
  const pairs: KeyValue[] = [];
  let pos = 0;

  for (;;) {
    while (pos < text.length && SEPARATORS.includes(text.charAt(pos))) pos++;
    if (pos >= text.length) return pairs;

    let keyEnd = pos;
    while (keyEnd < text.length && !":=(".includes(text.charAt(keyEnd)) && !SEPARATORS.includes(text.charAt(keyEnd))) {
      keyEnd++;
    }
    const key = text.slice(pos, keyEnd);
    const delimiterChar = text.charAt(keyEnd);
    pos = keyEnd + (keyEnd < text.length ? 1 : 0);

    if (delimiterChar !== ":" && delimiterChar !== "=" && delimiterChar !== "(") {
      pairs.push({ key, value: "", delimiter: "" });
      continue;
    }

    let length = valueLength(text, pos, delimiterChar === "(" ? ")" : SEPARATORS);
    // "(x)->y" keeps the "->y" tail in the value, as in `check_pkt_larger(1500)->reg0`.
    if (delimiterChar === "(" && text.charAt(pos + length) === ")" && text.startsWith("->", pos + length + 1)) {
      length += valueLength(text, pos + length, SEPARATORS);
    }
    pairs.push({ key, value: text.slice(pos, pos + length), delimiter: delimiterChar });
    pos += length + (pos + length < text.length ? 1 : 0);
  }
}
