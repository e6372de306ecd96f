import { csvCell, csvFileName, csvLine, neutralizeFormula, parseCsv } from '../../src/csv';

describe('CSV', () => {
  it('neutralizes cells a spreadsheet would run as formulas', () => {
    for (const s of ['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '\rx', '=HYPERLINK("http://x")']) {
      expect(neutralizeFormula(s)).toBe(`'${s}`);
    }
    for (const s of ['M001', 'a=b', '', ' =1']) expect(neutralizeFormula(s)).toBe(s);
  });

  it('quotes when needed and leaves numbers alone', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('=1,2')).toBe(`"'=1,2"`);
    expect(csvCell('\rx')).toBe(`"'\rx"`);
    expect(csvCell(-5)).toBe('-5');
    expect(csvCell(12.5)).toBe('12.5');
    expect(csvCell(null)).toBe('');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell(Number.NaN)).toBe('');
    expect(csvCell(true)).toBe('true');
    expect(csvLine(['a', 1, null])).toBe('a,1,\r\n');
  });

  it('parses back what it writes', () => {
    const rows = [
      ['id', 'text', 'n'],
      ['1', 'a,b', '3'],
      ['2', 'say "hi"\nthere', ''],
      ['3', '', 'x-4'],
    ];
    const text = rows.map((r) => csvLine(r)).join('');
    expect(parseCsv(text)).toEqual(rows);
    expect(parseCsv('a,b\nc,d')).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
  });

  it('names the file with a UTC timestamp', () => {
    expect(csvFileName(Date.UTC(2025, 8, 3, 10, 25, 7, 123))).toBe('bookings-20250903T102507Z.csv');
  });
});
