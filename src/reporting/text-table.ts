// Plain-text tables for a terminal: columns aligned by display width, where a CJK character (or a wide
// emoji) takes two cells and a combining mark none, so 华东供应链 lines up with ASCII names.

// East Asian Wide and Fullwidth ranges (Unicode EastAsianWidth.txt, W and F), plus the emoji blocks
// terminals draw two cells wide. Sorted, inclusive.
const WIDE: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f], // Hangul Jamo initial consonants
  [0x231a, 0x231b],
  [0x2329, 0x232a],
  [0x23e9, 0x23ec],
  [0x23f0, 0x23f0],
  [0x23f3, 0x23f3],
  [0x25fd, 0x25fe],
  [0x2614, 0x2615],
  [0x2648, 0x2653],
  [0x267f, 0x267f],
  [0x2693, 0x2693],
  [0x26a1, 0x26a1],
  [0x26aa, 0x26ab],
  [0x26bd, 0x26be],
  [0x26c4, 0x26c5],
  [0x26ce, 0x26ce],
  [0x26d4, 0x26d4],
  [0x26ea, 0x26ea],
  [0x26f2, 0x26f3],
  [0x26f5, 0x26f5],
  [0x26fa, 0x26fa],
  [0x26fd, 0x26fd],
  [0x2705, 0x2705],
  [0x270a, 0x270b],
  [0x2728, 0x2728],
  [0x274c, 0x274c],
  [0x274e, 0x274e],
  [0x2753, 0x2755],
  [0x2757, 0x2757],
  [0x2795, 0x2797],
  [0x27b0, 0x27b0],
  [0x27bf, 0x27bf],
  [0x2b1b, 0x2b1c],
  [0x2b50, 0x2b50],
  [0x2b55, 0x2b55],
  [0x2e80, 0x303e], // CJK radicals, Kangxi, ideographic description, CJK symbols and punctuation
  [0x3041, 0x33ff], // kana, bopomofo, Hangul compatibility jamo, kanbun, CJK strokes, enclosed, compatibility
  [0x3400, 0x4dbf], // CJK extension A
  [0x4e00, 0x9fff], // CJK unified ideographs
  [0xa000, 0xa4cf], // Yi
  [0xa960, 0xa97f], // Hangul Jamo extended A
  [0xac00, 0xd7a3], // Hangul syllables
  [0xf900, 0xfaff], // CJK compatibility ideographs
  [0xfe10, 0xfe19], // vertical forms
  [0xfe30, 0xfe6f], // CJK compatibility forms, small form variants
  [0xff00, 0xff60], // fullwidth forms
  [0xffe0, 0xffe6],
  [0x16fe0, 0x16fe4],
  [0x17000, 0x18cff], // Tangut
  [0x1b000, 0x1b2ff], // kana supplement and extensions, Nushu
  [0x1f004, 0x1f004],
  [0x1f0cf, 0x1f0cf],
  [0x1f18e, 0x1f18e],
  [0x1f191, 0x1f19a],
  [0x1f200, 0x1f2ff], // enclosed ideographic supplement
  [0x1f300, 0x1f64f], // pictographs, emoticons
  [0x1f680, 0x1f6ff], // transport and map symbols
  [0x1f7e0, 0x1f7eb],
  [0x1f90c, 0x1f9ff], // supplemental symbols and pictographs
  [0x1fa70, 0x1faff],
  [0x20000, 0x2fffd], // CJK extensions B–F
  [0x30000, 0x3fffd], // CJK extension G and later
];

function isWide(cp: number): boolean {
  let lo = 0;
  let hi = WIDE.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [from, to] = WIDE[mid]!;
    if (cp < from) hi = mid - 1;
    else if (cp > to) lo = mid + 1;
    else return true;
  }
  return false;
}

// Combining marks, format characters (zero-width joiner, bidi marks) and variation selectors take no cell.
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}]$/u;

const GRAPHEMES = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
// A character followed by VS16 is drawn as an emoji; pictographs joined by U+200D, or given a skin tone, are
// drawn as one: each such cluster takes two cells, as terminals draw them.
const EMOJI_PRESENTATION = /\ufe0f/u;
const EMOJI_SEQUENCE = /\p{Extended_Pictographic}.*[\u200d\u{1f3fb}-\u{1f3ff}]/u;

// Text without these has no emoji sequence, and is measured a code point at a time: segmenting every cell of
// a large `sql` result into graphemes would take several times as long.
const SEQUENCE_MARK = /[\u200d\ufe0f\u{1f3fb}-\u{1f3ff}]/u;

// Most cells (ids, numbers, times): one cell a character, found without looking at each one.
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** The number of terminal cells `text` takes (after sanitize: no control characters). */
export function displayWidth(text: string): number {
  if (PRINTABLE_ASCII.test(text)) return text.length;
  if (!SEQUENCE_MARK.test(text)) return codePointsWidth(text);
  let width = 0;
  for (const { segment } of GRAPHEMES.segment(text)) {
    const emoji = EMOJI_PRESENTATION.test(segment) || EMOJI_SEQUENCE.test(segment);
    width += emoji ? 2 : codePointsWidth(segment);
  }
  return width;
}

function codePointsWidth(text: string): number {
  let width = 0;
  for (const ch of text) {
    if (!ZERO_WIDTH.test(ch)) width += isWide(ch.codePointAt(0)!) ? 2 : 1;
  }
  return width;
}

/** Control characters (a tab or newline in a name) would break the table's lines: shown as spaces. */
export function sanitize(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: replacing them is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ');
}

export type Align = 'left' | 'right';

export interface Column<R> {
  header: string;
  align?: Align;
  value(row: R): string;
}

function pad(text: string, width: number, align: Align): string {
  const fill = ' '.repeat(Math.max(0, width - displayWidth(text)));
  return align === 'right' ? fill + text : text + fill;
}

/**
 * A table's widths, grown a row at a time, so that a result too large to hold (`sql`'s) can be measured in one
 * pass and printed in the next. Cells are sanitized text.
 */
export class TableLayout {
  readonly headers: readonly string[];
  readonly widths: number[];

  constructor(headers: readonly string[]) {
    this.headers = headers.map(sanitize);
    this.widths = this.headers.map(displayWidth);
  }

  widen(cells: readonly string[]): void {
    for (let i = 0; i < cells.length; i++)
      this.widths[i] = Math.max(this.widths[i]!, displayWidth(cells[i]!));
  }

  /** Columns separated by two spaces, no trailing spaces. */
  line(cells: readonly string[], aligns: readonly Align[]): string {
    return cells
      .map((v, i) => pad(v, this.widths[i]!, aligns[i] ?? 'left'))
      .join('  ')
      .trimEnd();
  }

  /** The header and the rule under it. */
  head(aligns: readonly Align[]): string {
    const rule = this.widths.map((w) => '-'.repeat(w));
    return `${this.line(this.headers, aligns)}\n${this.line(rule, aligns)}`;
  }
}

/** Header, a rule, and one line per row. */
export function renderTable<R>(columns: readonly Column<R>[], rows: readonly R[]): string {
  const layout = new TableLayout(columns.map((c) => c.header));
  const aligns = columns.map((c) => c.align ?? 'left');
  const cells = rows.map((row) => columns.map((c) => sanitize(c.value(row))));
  for (const line of cells) layout.widen(line);
  return [layout.head(aligns), ...cells.map((line) => layout.line(line, aligns))].join('\n');
}
