/** A banner's lines framed by rows of `!`, so that they are not lost under vitest's summary. */
export function framed(lines: string[]): string[] {
  const frame = '!'.repeat(Math.min(120, Math.max(...lines.map((line) => line.length))));
  return [frame, ...lines, frame];
}
