/**
 * Where the lines of a text start, so that an offset into it becomes the line
 * and column an editor shows. The YAML readers record each start as they pass it.
 */
export class LineCounter {
  /** Offsets where lines start, ascending. */
  readonly lineStarts: number[] = [];

  /** Record that a line starts at `offset` (called in ascending order). */
  readonly addNewLine = (offset: number): number => this.lineStarts.push(offset);

  /** The 1-based line and column of `offset`; line 0 when no recorded line starts at or before it. */
  linePos(offset: number): { line: number; col: number } {
    const starts = this.lineStarts;
    // How many lines start at or before `offset`.
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid]! <= offset) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return { line: 0, col: offset };
    return { line: lo, col: offset - starts[lo - 1]! + 1 };
  }
}
