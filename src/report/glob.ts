/**
 * Tally's name filters (`--repo 'acme/*'`, `--model 'claude-[so]*'`), defined once so that
 * every store answers alike: each store's dialect renders a parsed pattern in its own language.
 *
 * - `*` any run of characters (also none), `?` exactly one character;
 * - `[abc]`, `[a-z]` one character of the class; `[!abc]` or `[^abc]` one character not in it
 *   (a range that ends before it starts, `[z-a]`, holds nothing);
 * - `\x` the character x itself (`\*`, `\?`, `\[`, `\\`);
 * - anything else, including a `[` that is never closed, stands for itself. Matching is
 *   case-sensitive.
 */
export type GlobToken =
  | { kind: "literal"; text: string }
  | { kind: "any" }
  | { kind: "one" }
  | { kind: "class"; negated: boolean; items: (string | [string, string])[] };

export interface GlobPattern {
  source: string;
  tokens: GlobToken[];
}

/** Parses a pattern; never throws (anything unusual is literal). */
export function parseGlob(source: string): GlobPattern {
  const tokens: GlobToken[] = [];
  const literal = (ch: string) => {
    const last = tokens[tokens.length - 1];
    if (last?.kind === "literal") last.text += ch;
    else tokens.push({ kind: "literal", text: ch });
  };
  const chars = [...source];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === "\\" && i + 1 < chars.length) literal(chars[++i]!);
    else if (ch === "*") {
      if (tokens[tokens.length - 1]?.kind !== "any") tokens.push({ kind: "any" });
    } else if (ch === "?") tokens.push({ kind: "one" });
    else if (ch === "[") {
      const parsed = parseClass(chars, i);
      if (parsed === null) literal(ch);
      else {
        tokens.push(parsed.token);
        i = parsed.end;
      }
    } else literal(ch);
  }
  return { source, tokens };
}

/** `[` at `start`: the class and the index of its `]`, or null when it is not closed. */
function parseClass(chars: string[], start: number): { token: GlobToken & { kind: "class" }; end: number } | null {
  let i = start + 1;
  const negated = chars[i] === "!" || chars[i] === "^";
  if (negated) i++;
  const items: (string | [string, string])[] = [];
  // A `]` right after the opening (or the negation) belongs to the class, as in shells.
  for (let first = true; i < chars.length; i++, first = false) {
    const ch = chars[i]!;
    if (ch === "]" && !first) return { token: { kind: "class", negated, items }, end: i };
    const single = ch === "\\" && i + 1 < chars.length ? chars[++i]! : ch;
    if (chars[i + 1] === "-" && i + 2 < chars.length && chars[i + 2] !== "]") {
      const to = chars[i + 2] === "\\" && i + 3 < chars.length ? chars[i + 3]! : chars[i + 2]!;
      items.push([single, to]);
      i += chars[i + 2] === "\\" ? 3 : 2;
    } else items.push(single);
  }
  return null;
}

/**
 * The pattern for SQLite's GLOB, which has the same `*`, `?` and `[…]` (with `^` for "not")
 * but no escape character: a special character is matched literally as a one-item class.
 */
export function toSqliteGlob(pattern: GlobPattern): string {
  const special = new Set(["*", "?", "["]);
  const literal = (text: string) => [...text].map((c) => (special.has(c) ? `[${c}]` : c)).join("");
  return pattern.tokens
    .map((t) => {
      switch (t.kind) {
        case "literal":
          return literal(t.text);
        case "any":
          return "*";
        case "one":
          return "?";
        case "class": {
          // In a GLOB class `]` must come first and `^` must not; `-` goes last.
          const singles = t.items.filter((item): item is string => typeof item === "string");
          const ranges = t.items.filter((item): item is [string, string] => typeof item !== "string").map(([a, b]) => `${a}-${b}`);
          const close = singles.includes("]") ? "]" : "";
          const rest = singles.filter((c) => c !== "]" && c !== "-" && c !== "^");
          const tail = `${singles.includes("^") ? "^" : ""}${singles.includes("-") ? "-" : ""}`;
          const body = `${close}${rest.join("")}${ranges.join("")}${tail}`;
          // `^` alone: a literal outside a class, or "anything but ^".
          if (body === "^") return t.negated ? "[^^]" : "^";
          return `[${t.negated ? "^" : ""}${body}]`;
        }
      }
    })
    .join("");
}

/** Whether `text` matches, in JavaScript: the reference the stores' renderings are tested against. */
export function matchesGlob(pattern: GlobPattern, text: string): boolean {
  let source = "^";
  for (const t of pattern.tokens) {
    if (t.kind === "literal") source += [...t.text].map((c) => c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")).join("");
    else if (t.kind === "any") source += "[^]*";
    else if (t.kind === "one") source += "[^]";
    else {
      const esc = (c: string) => c.replace(/[\]\\^-]/g, "\\$&");
      // A range that ends before it starts (`[b-a]`) holds no character.
      const items = t.items.filter((item) => typeof item === "string" || item[0].codePointAt(0)! <= item[1].codePointAt(0)!);
      const body = items.map((item) => (typeof item === "string" ? esc(item) : `${esc(item[0])}-${esc(item[1])}`)).join("");
      source += body === "" ? (t.negated ? "[^]" : "[]") : `[${t.negated ? "^" : ""}${body}]`;
    }
  }
  return new RegExp(`${source}$`, "u").test(text);
}

/** Characters with a meaning in a POSIX regular expression (PostgreSQL's `~`), outside a class. */
const REGEX_SPECIAL = /[\\^$.|?*+()[\]{}]/g;

/**
 * The pattern as an anchored POSIX regular expression for PostgreSQL's `~` (case-sensitive;
 * `.` matches any character, newlines included). Inside a class `\`, `]`, `^` and `-` are
 * escaped, which PostgreSQL's advanced regular expressions allow.
 */
export function toPostgresRegex(pattern: GlobPattern): string {
  const inClass = (c: string) => (c === "\\" || c === "]" || c === "^" || c === "-" || c === "[" ? `\\${c}` : c);
  const body = pattern.tokens
    .map((t) => {
      switch (t.kind) {
        case "literal":
          return t.text.replace(REGEX_SPECIAL, (c) => `\\${c}`);
        case "any":
          return ".*";
        case "one":
          return ".";
        case "class": {
          // A range that ends before it starts (`[b-a]`) holds no character, as in matchesGlob.
          const items = t.items.filter((item) => typeof item === "string" || item[0].codePointAt(0)! <= item[1].codePointAt(0)!);
          const body = items.map((item) => (typeof item === "string" ? inClass(item) : `${inClass(item[0])}-${inClass(item[1])}`)).join("");
          // Empty: no character (text never holds NUL, so "not 1…U+10FFFF" matches none), or, negated, any.
          if (body === "") return t.negated ? "." : "[^\\x01-\\U0010ffff]";
          return `[${t.negated ? "^" : ""}${body}]`;
        }
      }
    })
    .join("");
  return `^${body}$`;
}
