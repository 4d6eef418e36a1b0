// Caret markers in fixtures (as in vscode-anycode): a comment line `// ^ kind` points at the
// column of `^` on the closest non-marker line above it.
export interface Caret {
  kind: string;
  /** 1-based line of the code the caret points at. */
  line: number;
  /** 0-based column of the caret. */
  column: number;
}

const MARKER = /^(\s*)\/\/(\s*)\^\s*(\S.*?)\s*$/;

export function readCarets(text: string): Caret[] {
  const lines = text.split(/\r?\n/);
  const carets: Caret[] = [];
  let target = 0;
  lines.forEach((line, i) => {
    const m = MARKER.exec(line);
    if (!m) {
      target = i + 1;
      return;
    }
    carets.push({ kind: m[3], line: target, column: line.indexOf('^') });
  });
  return carets;
}

export function countCarets(text: string, kind: string): number {
  return readCarets(text).filter((c) => c.kind === kind).length;
}
