import { describe, expect, it } from 'vitest';
import { formatAge } from '../../src/reporting/report.ts';
import { displayWidth, renderTable, sanitize } from '../../src/reporting/text-table.ts';

describe('text tables', () => {
  it('measures terminal cells: CJK and fullwidth 2, combining marks and joiners 0', () => {
    expect(displayWidth('abc')).toBe(3);
    expect(displayWidth('华东供应链')).toBe(10);
    expect(displayWidth('ＡＢ（株）')).toBe(10);
    expect(displayWidth('한국')).toBe(4);
    expect(displayWidth('e\u0301')).toBe(1);
    expect(displayWidth('a\u200bb')).toBe(2);
    expect(displayWidth('🚀')).toBe(2);
    // Emoji sequences, one glyph each: by VS16, by U+200D, with a skin tone; and the heart without VS16.
    expect(displayWidth('❤️ 爱心供应链')).toBe(13);
    expect(displayWidth('👨\u200d👩\u200d👧 家庭网络')).toBe(11);
    expect(displayWidth('👍🏽 优选')).toBe(7);
    expect(displayWidth('❤')).toBe(1);
    expect(displayWidth('𠮷')).toBe(2);
  });

  it('aligns mixed-width cells and keeps control characters out of the layout', () => {
    const rows = [
      { name: '上海一号', n: 7 },
      { name: 'Acme\tLtd\n', n: 12345 },
    ];
    const text = renderTable(
      [
        { header: 'NAME', value: (r: (typeof rows)[number]) => r.name },
        { header: 'N', align: 'right', value: (r: (typeof rows)[number]) => String(r.n) },
      ],
      rows,
    );
    expect(text.split('\n')).toEqual([
      'NAME           N',
      '---------  -----',
      '上海一号       7',
      'Acme Ltd   12345',
    ]);
    expect(sanitize('a\u0000b\u2028c')).toBe('a b c');
    // A header too: sql's come from the query ("a\nb" is a valid column name).
    expect(renderTable([{ header: 'a\nb', value: () => 'x' }], [1])).toBe('a b\n---\nx');
  });

  it('lays out hundreds of thousands of rows (no spread arguments, which overflow the stack)', () => {
    const rows = Array.from({ length: 300_000 }, (_, i) => i);
    const text = renderTable([{ header: 'N', align: 'right', value: (n: number) => String(n) }], rows);
    expect(text.split('\n').at(-1)).toBe('299999');
  });

  it('formats ages', () => {
    expect([
      formatAge(null),
      formatAge(5.4),
      formatAge(125),
      formatAge(7_300),
      formatAge(2 * 86_400 + 3_700),
    ]).toEqual(['-', '5s', '2m 5s', '2h 1m', '2d 1h']);
  });
});
