// Go's text/tabwriter (elastic tabstops), which kubectl and oc print tables and descriptions with:
// tab-terminated cells of consecutive lines form a column as wide as its widest cell plus padding.
// Ported so the output lines up exactly as oc's does, tabs included.

export interface TabwriterOptions {
  /** Minimal cell width, padding included. */
  minwidth: number;
  /** Width of a tab character, for padding with tabs. */
  tabwidth: number;
  /** Added to the widest cell of a column. */
  padding: number;
  /** `\t` pads with tabs (oc describe); ' ' with spaces (tables). */
  padchar: ' ' | '\t';
}

/** `oc describe`: `tabwriter.NewWriter(out, 0, 8, 1, '\t', 0)`. */
export const DESCRIBE: TabwriterOptions = { minwidth: 0, tabwidth: 8, padding: 1, padchar: '\t' };

/** kubectl tables: `tabwriter.NewWriter(out, 10, 4, 3, ' ', 0)`. */
export const TABLE: TabwriterOptions = { minwidth: 10, tabwidth: 4, padding: 3, padchar: ' ' };

/** Width as Go counts it: runes. */
function runeCount(text: string): number {
  return [...text].length;
}

export function tabwrite(text: string, options: TabwriterOptions): string {
  const lines = text.split('\n').map((line) => line.split('\t'));
  const widths: number[] = [];
  let out = '';

  const padding = (textWidth: number, cellWidth: number): string => {
    if (options.padchar === '\t') {
      if (options.tabwidth === 0) return '';
      const rounded = Math.ceil(cellWidth / options.tabwidth) * options.tabwidth;
      return '\t'.repeat(Math.ceil((rounded - textWidth) / options.tabwidth));
    }
    return ' '.repeat(Math.max(0, cellWidth - textWidth));
  };

  const writeLines = (line0: number, line1: number) => {
    for (let i = line0; i < line1; i++) {
      const cells = lines[i]!;
      cells.forEach((cell, j) => {
        out += cell;
        if (j < widths.length) out += padding(runeCount(cell), widths[j]!);
      });
      if (i + 1 < lines.length) out += '\n';
    }
  };

  // Go's Writer.format: a column block is a run of lines that have a cell in this column.
  const format = (first: number, last: number) => {
    let line0 = first;
    const column = widths.length;
    for (let row = line0; row < last; row++) {
      if (column >= lines[row]!.length - 1) continue;
      writeLines(line0, row);
      line0 = row;
      let width = options.minwidth;
      for (; row < last; row++) {
        const cells = lines[row]!;
        if (column >= cells.length - 1) break;
        width = Math.max(width, runeCount(cells[column]!) + options.padding);
      }
      widths.push(width);
      format(line0, row);
      widths.pop();
      line0 = row;
    }
    writeLines(line0, last);
  };

  format(0, lines.length);
  return out;
}

/** A kubectl-style table: upper-case header, columns three spaces apart at least. */
export function table(header: string[], rows: string[][]): string {
  const text = [header, ...rows].map((row) => `${row.join('\t')}\n`).join('');
  return tabwrite(text, TABLE);
}
