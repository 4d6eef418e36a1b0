import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import '@vscode-elements/elements/dist/vscode-table/index.js';
import '@vscode-elements/elements/dist/vscode-table-body/index.js';
import '@vscode-elements/elements/dist/vscode-table-cell/index.js';
import '@vscode-elements/elements/dist/vscode-table-header/index.js';
import '@vscode-elements/elements/dist/vscode-table-header-cell/index.js';
import '@vscode-elements/elements/dist/vscode-table-row/index.js';
import type { IndexState, IndexSummary, IndexedFile } from '../../protocol/lsp';
import type { HostToPage, OverviewPageState, PageToHost } from '../../protocol/overview';
import { el, vscodeTransport } from '../common/transport';

const transport = vscodeTransport<HostToPage, PageToHost, OverviewPageState>();
const app = document.getElementById('app')!;

let summary: IndexSummary | undefined = transport.getState()?.summary;
let state: IndexState | undefined;
let error: string | undefined;

function relative(path: string, roots: string[]): string {
  const root = roots.find((r) => path.startsWith(r.endsWith('/') ? r : `${r}/`));
  return root ? path.slice(root.length).replace(/^\/+/, '') : path;
}

function stat(label: string, value: number, id: string): HTMLElement {
  return el('div', { className: 'stat', attrs: { 'data-stat': id } }, el('span', { className: 'value', text: value.toLocaleString('en-US') }), el('span', { className: 'label', text: label }));
}

function fileRow(file: IndexedFile, roots: string[]): HTMLElement {
  const link = el('a', { text: relative(file.path, roots), attrs: { href: '#', title: file.path } });
  link.addEventListener('click', (e) => {
    e.preventDefault();
    transport.post({ type: 'openFile', path: file.path, line: file.errorLines[0] });
  });
  const cell = (text: string) => el('vscode-table-cell', { text });
  return el(
    'vscode-table-row',
    { attrs: { 'data-path': file.path } },
    el('vscode-table-cell', {}, link),
    cell(String(file.functions)),
    cell(String(file.atomicCalls)),
    cell(String(file.getenvCalls)),
    cell(file.errorLines.length ? `line ${file.errorLines.join(', ')}` : ''),
  );
}

function render(): void {
  const refresh = el('vscode-button', { text: 'Reindex', attrs: { id: 'refresh', icon: 'refresh', secondary: '' } });
  refresh.addEventListener('click', () => {
    error = undefined;
    state = { state: 'indexing', files: summary?.files ?? 0, atomicCalls: 0, getenvCalls: 0 };
    render();
    transport.post({ type: 'refresh' });
  });
  const busy = state?.state === 'indexing' || (!summary && !error);
  const header = el(
    'header',
    {},
    el('h1', { text: 'Workspace overview' }),
    busy ? el('vscode-progress-ring', { attrs: { 'aria-label': 'indexing' } }) : '',
    refresh,
  );
  const children: (Node | string)[] = [header];
  if (error) children.push(el('p', { className: 'error', text: error, attrs: { role: 'alert' } }));
  if (!summary) {
    children.push(el('p', { className: 'hint', text: 'Waiting for the language server to index the workspace…' }));
  } else {
    const s = summary;
    children.push(
      el(
        'section',
        { className: 'stats' },
        stat('C files', s.files, 'files'),
        stat('functions', s.functions, 'functions'),
        stat('atomic operations', s.atomicCalls, 'atomics'),
        stat('getenv calls', s.getenvCalls, 'getenv'),
        stat('files tree-sitter could not fully parse', s.filesWithErrors, 'errors'),
      ),
    );
    const skipped = s.skipped.overCap + s.skipped.tooLarge + s.skipped.unreadable;
    if (skipped) {
      children.push(
        el('p', {
          className: 'hint',
          text: `Skipped ${skipped} files: ${s.skipped.overCap} over allocLens.index.maxFiles, ${s.skipped.tooLarge} over allocLens.index.maxFileSizeKB, ${s.skipped.unreadable} unreadable.`,
        }),
      );
    }
    const rows = s.perFile.filter((f) => f.atomicCalls || f.getenvCalls || f.errorLines.length).sort((a, b) => b.atomicCalls - a.atomicCalls || b.getenvCalls - a.getenvCalls);
    children.push(
      el('h2', { text: `Files with atomics or ENV gates (${rows.length} of ${s.files})` }),
      el(
        'vscode-table',
        { attrs: { 'zebra': '', 'bordered-columns': '', 'resizable': '', 'columns': '["50%","12%","12%","12%","14%"]' } },
        el(
          'vscode-table-header',
          { attrs: { slot: 'header' } },
          ...['File', 'Functions', 'Atomics', 'getenv', 'Parse errors'].map((h) => el('vscode-table-header-cell', { text: h })),
        ),
        el('vscode-table-body', { attrs: { slot: 'body' } }, ...rows.map((f) => fileRow(f, s.roots))),
      ),
      el('p', {
        className: 'hint',
        text: `Indexed in ${Math.round(s.durationMs)} ms. Parse errors are lines tree-sitter could not read: broken C, or valid C hidden behind macros such as attribute or TLS macros.`,
      }),
    );
  }
  app.replaceChildren(...children);
}

transport.onMessage((message) => {
  switch (message.type) {
    case 'summary':
      summary = message.summary;
      state = undefined;
      error = undefined;
      transport.setState({ summary });
      break;
    case 'state':
      state = message.state;
      if (message.state.state === 'failed') error = `Indexing failed: ${message.state.message ?? 'unknown error'}`;
      break;
    case 'error':
      error = message.message;
      state = undefined;
      break;
  }
  render();
});

render();
transport.post({ type: 'ready' });
