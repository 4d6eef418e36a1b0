import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import '@vscode-elements/elements/dist/vscode-table/index.js';
import '@vscode-elements/elements/dist/vscode-table-body/index.js';
import '@vscode-elements/elements/dist/vscode-table-cell/index.js';
import '@vscode-elements/elements/dist/vscode-table-header/index.js';
import '@vscode-elements/elements/dist/vscode-table-header-cell/index.js';
import '@vscode-elements/elements/dist/vscode-table-row/index.js';
import type { Chart } from 'chart.js';
import type {
  AbPageState,
  CellResult,
  ExperimentEvent,
  ExperimentResult,
  HistoryTable,
  HostToPage,
  PageToHost,
  Sample,
  Warning,
} from '../../protocol/ab';
import type { CellKey, ExperimentConfig, VariantStats } from '../../core/ab/types';
import { el, vscodeTransport } from '../common/transport';
import { deltaChart, destroyCharts, distributionChart, runChart, updateRunChart, type DeltaRow, type RunSeries } from './charts';

const transport = vscodeTransport<HostToPage, PageToHost, AbPageState>();
const app = document.getElementById('app')!;

/** The experiment being streamed, built up from the engine's events. */
interface Live {
  id: string;
  config: ExperimentConfig;
  cells: CellKey[];
  runs: Sample[];
  stats?: { cells: CellResult[]; pairs: number; maxPairs: number };
  warnings: Warning[];
  phase: string;
}

const saved = transport.getState();
let result: ExperimentResult | undefined = saved?.result;
let history: HistoryTable | undefined = saved?.history;
let live: Live | undefined;
let error: string | undefined;
let empty: string | undefined;

// ---------------------------------------------------------------------------------------------
// Formatting

const SI: [number, string][] = [
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'K'],
];

/** Engine values are normalized: ops/s, seconds or counts. */
function formatValue(v: number | null | undefined, unit: string): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  if (unit === 's') {
    const abs = Math.abs(v);
    if (abs >= 1) return `${v.toFixed(3)} s`;
    if (abs >= 1e-3) return `${(v * 1e3).toFixed(3)} ms`;
    if (abs >= 1e-6) return `${(v * 1e6).toFixed(3)} µs`;
    return `${(v * 1e9).toFixed(1)} ns`;
  }
  for (const [scale, prefix] of SI) {
    if (Math.abs(v) >= scale) return `${(v / scale).toFixed(2)} ${prefix}${unit === 'count' ? '' : ` ${unit}`}`.trim();
  }
  return `${v.toFixed(2)}${unit === 'count' ? '' : ` ${unit}`}`;
}

const pct = (v: number | null | undefined, digits = 2) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : `${v >= 0 ? '+' : ''}${v.toFixed(digits)}%`);
const ciText = (ci: [number, number] | null | undefined) => (ci ? `[${pct(ci[0])}, ${pct(ci[1])}]` : '–');

function variantLabel(config: ExperimentConfig, name: string): string {
  const v = config.variants.find((x) => x.name === name);
  if (!v) return name;
  const parts = [...Object.entries(v.defines).map(([k, val]) => (val === '' ? k : `${k}=${val}`)), ...Object.entries(v.env).map(([k, val]) => `${k}=${val}`)];
  if (config.flag && v.defines[config.flag] !== undefined) return `${name}: ${config.flag}=${v.defines[config.flag]}`;
  return parts.length ? `${name}: ${parts.join(' ')}` : name;
}

function firstCellKey(config: ExperimentConfig, cells: CellKey[]): CellKey {
  if (cells[0]) return cells[0];
  const baseline = config.baseline ?? config.variants[0]?.name ?? 'A';
  const other = config.variants.find((v) => v.name !== baseline)?.name ?? 'B';
  return { baseline, variant: other, profile: config.profiles[0]?.name ?? 'default' };
}

function metricUnit(config: ExperimentConfig): string {
  const m = config.metric;
  if (m.kind === 'wall') return 's';
  if (m.kind === 'instructions') return 'count';
  if (m.unit === 'count') return 'count';
  return m.unit.endsWith('ops/s') ? 'ops/s' : 's';
}

/** The measured samples of one cell, in run order (warmups and failed runs left out). */
function series(config: ExperimentConfig, key: CellKey, runs: Sample[]): RunSeries {
  const measured = runs.filter((s) => !s.warmup && s.value !== null && s.profile === key.profile).sort((x, y) => x.order - y.order);
  return {
    labels: [variantLabel(config, key.baseline), variantLabel(config, key.variant)],
    a: measured.filter((s) => s.variant === key.baseline).map((s) => s.value!),
    b: measured.filter((s) => s.variant === key.variant).map((s) => s.value!),
    unit: metricUnit(config),
    format: (v) => formatValue(v, metricUnit(config) === 's' ? 's' : 'count'),
  };
}

const STOP_REASONS: Record<NonNullable<ExperimentResult['stopReason']>, string> = {
  'settled': 'the verdict settled',
  'deterministic': 'both sides repeat exactly',
  'max-pairs': 'the pair budget was spent',
  'budget': 'the time budget was spent',
};

// ---------------------------------------------------------------------------------------------
// Rendering: text parts are rebuilt, the charts are kept and updated in place.

interface Charts {
  key: string;
  runs?: Chart;
  dist?: Chart;
  delta?: Chart;
}
let charts: Charts = { key: '' };

function button(id: string, text: string, icon: string, onClick: () => void, opts: { secondary?: boolean; disabled?: boolean } = {}): HTMLElement {
  const attrs: Record<string, string> = { id, icon };
  if (opts.secondary) attrs.secondary = '';
  if (opts.disabled) attrs.disabled = '';
  const b = el('vscode-button', { text, attrs });
  b.addEventListener('click', () => {
    if (!b.hasAttribute('disabled')) onClick();
  });
  return b;
}

function badge(verdict: string, extra?: string): HTMLElement {
  const cls = `verdict verdict-${verdict.toLowerCase().replace(/[^a-z]/g, '')}`;
  return el('span', { className: cls, text: extra ? `${verdict} · ${extra}` : verdict, attrs: { 'data-verdict': verdict, role: 'status' } });
}

function table(headers: string[], rows: (string | Node)[][], attrs: Record<string, string> = {}, footer: (string | Node)[][] = []): HTMLElement {
  const row = (cells: (string | Node)[], rowAttrs: Record<string, string> = {}) =>
    el('vscode-table-row', { attrs: rowAttrs }, ...cells.map((c) => (typeof c === 'string' ? el('vscode-table-cell', { text: c }) : el('vscode-table-cell', {}, c))));
  return el(
    'vscode-table',
    { attrs: { 'zebra': '', 'bordered-columns': '', ...attrs } },
    el('vscode-table-header', { attrs: { slot: 'header' } }, ...headers.map((h) => el('vscode-table-header-cell', { text: h }))),
    el('vscode-table-body', { attrs: { slot: 'body' } }, ...rows.map((r) => row(r)), ...footer.map((r) => row(r, { 'data-total': '' }))),
  );
}

function statsRow(label: string, s: VariantStats | null, unit: string): string[] {
  if (!s) return [label, '0', '–', '–', '–', '–'];
  return [label, String(s.n), formatValue(s.median, unit), `${formatValue(s.mean, unit)} ± ${formatValue(s.sd, unit)}`, `${s.cvPct.toFixed(2)}%`, String(s.outliers.length)];
}

function warningList(warnings: Warning[]): HTMLElement | string {
  if (!warnings.length) return '';
  return el(
    'ul',
    { className: 'warnings', attrs: { 'aria-label': 'warnings' } },
    ...warnings.map((w) => el('li', { attrs: { 'data-code': w.code } }, el('span', { className: 'codicon codicon-warning' }), ` ${w.message}`)),
  );
}

function historySection(h: HistoryTable | undefined): HTMLElement | string {
  if (!h || h.entries.length === 0) return '';
  const rows = h.entries.map((e) => [
    e.phase ?? e.name,
    e.flag ?? '–',
    e.temperature ?? '–',
    e.change,
    e.metric,
    pct(e.deltaPct),
    badge(e.verdict, e.status === 'completed' ? undefined : e.status),
    e.date.slice(0, 10),
  ]);
  const totals = h.totals.map((t) => ['Compounded total', '', '', `${t.counted} kept change(s)`, t.metric, pct(t.totalPct), '', '']);
  return el(
    'section',
    { attrs: { id: 'history' } },
    el('h2', { text: 'History' }),
    table(['Phase / name', 'Flag', 'Path', 'Change', 'Metric', 'Δ%', 'Verdict', 'Date'], rows, { columns: '["14%","20%","6%","24%","9%","8%","11%","8%"]' }, totals),
  );
}

function render(): void {
  const view = live ?? (result ? { config: result.config, cells: result.cells.map(({ variant, baseline, profile }) => ({ variant, baseline, profile })), runs: result.runs } : undefined);
  const running = Boolean(live);
  const headline: CellResult | undefined = live ? live.stats?.cells[0] : result?.cells[0];
  const resultId = live?.id ?? result?.id;
  const children: (Node | string)[] = [];

  const title = view ? `A/B ${view.config.flag ?? view.config.name}` : 'A/B results';
  const actions = el(
    'div',
    { className: 'actions' },
    running ? el('vscode-progress-ring', { attrs: { 'aria-label': 'running' } }) : '',
    running ? button('cancel', 'Cancel', 'debug-stop', () => transport.post({ type: 'cancel' }), { secondary: true }) : '',
    button('rerun', 'Re-run', 'refresh', () => transport.post({ type: 'rerun' }), { secondary: true, disabled: running || !result }),
    button('export-md', 'Export Markdown', 'markdown', () => resultId && transport.post({ type: 'export', format: 'markdown', resultId }), {
      disabled: running || !result,
    }),
    button('export-csv', 'Export CSV', 'table', () => resultId && transport.post({ type: 'export', format: 'csv', resultId }), {
      secondary: true,
      disabled: running || !result,
    }),
  );
  const verdict = running
    ? badge(headline ? headline.verdict : 'RUNNING', headline ? 'so far' : undefined)
    : result
      ? badge(result.verdict, result.status === 'completed' ? undefined : result.status)
      : '';
  children.push(el('header', {}, el('h1', { text: title }), verdict, actions));
  if (error) children.push(el('p', { className: 'error', text: error, attrs: { role: 'alert' } }));

  if (!view) {
    children.push(el('p', { className: 'hint', text: empty ? `No A/B experiment has run in ${empty} yet. Run "Alloc Lens: Run A/B for Flag…".` : 'Waiting for results…' }));
    children.push(historySection(history));
    destroyCharts();
    charts = { key: '' };
    app.replaceChildren(...children);
    return;
  }

  const config = view.config;
  const key = firstCellKey(config, view.cells);
  const unit = metricUnit(config);
  const metricLabel = config.metric.label ?? (config.metric.kind === 'regex' ? 'metric' : config.metric.kind === 'wall' ? 'wall time' : 'instructions');
  const direction = config.metric.direction === 'higher' ? 'higher is better' : 'lower is better';

  // Status line
  const status: string[] = [];
  if (live) {
    status.push(live.phase);
    if (live.stats) status.push(`${live.stats.pairs} of at most ${live.stats.maxPairs} pairs`);
  } else if (result) {
    const stop = result.stopReason ? ` (${STOP_REASONS[result.stopReason]})` : '';
    status.push(`${result.status} · ${result.pairs} pairs${stop} · ${new Date(result.startedAt).toLocaleString()}`);
    if (result.error) status.push(`${result.error.phase} error: ${result.error.message}`);
  }
  children.push(el('p', { className: 'status', text: status.join(' · '), attrs: { id: 'status' } }));
  if (result?.error && !live) {
    const e = result.error;
    children.push(
      el(
        'div',
        { className: 'error', attrs: { role: 'alert' } },
        el('div', { text: `${e.phase} failed${e.variant ? ` for ${e.variant}` : ''}: ${e.message}` }),
        e.argv ? el('code', { text: e.argv.join(' ') }) : '',
        e.stderrTail ? el('pre', { text: e.stderrTail }) : '',
      ),
    );
  }

  // Headline numbers
  if (headline) {
    children.push(
      el(
        'section',
        { className: 'headline', attrs: { id: 'headline' } },
        el('div', { className: 'stat', attrs: { 'data-stat': 'delta' } }, el('span', { className: 'value', text: pct(headline.deltaPct) }), el('span', { className: 'label', text: `Δ ${metricLabel} (B vs A, ${direction})` })),
        el('div', { className: 'stat', attrs: { 'data-stat': 'ci' } }, el('span', { className: 'value', text: ciText(headline.ci) }), el('span', { className: 'label', text: `95% CI, margin ±${config.marginPct}%` })),
        el('div', { className: 'stat', attrs: { 'data-stat': 'p' } }, el('span', { className: 'value', text: headline.pValue === null ? '–' : headline.pValue.toPrecision(2) }), el('span', { className: 'label', text: 'Mann-Whitney p' })),
        el('div', { className: 'stat', attrs: { 'data-stat': 'pairs' } }, el('span', { className: 'value', text: String(headline.pairs) }), el('span', { className: 'label', text: 'pairs' })),
        el('div', { className: 'stat', attrs: { 'data-stat': 'mde' } }, el('span', { className: 'value', text: headline.mdePct === null ? '–' : `${headline.mdePct.toFixed(2)}%` }), el('span', { className: 'label', text: 'smallest detectable Δ' })),
      ),
      el('p', { className: 'reason', text: headline.reason, attrs: { id: 'reason' } }),
    );
  }
  const warnings = live ? live.warnings : (result?.warnings ?? []);
  children.push(warningList(warnings));

  // Charts: fixed containers, created once per experiment and updated in place.
  const runsCanvas = el('canvas', { attrs: { 'id': 'chart-runs', 'role': 'img', 'aria-label': 'samples in run order' } });
  const distCanvas = el('canvas', { attrs: { 'id': 'chart-dist', 'role': 'img', 'aria-label': 'distribution of the samples' } });
  const deltaCanvas = el('canvas', { attrs: { 'id': 'chart-delta', 'role': 'img', 'aria-label': 'delta and its confidence interval against the margin' } });
  const plots = el(
    'section',
    { className: 'plots' },
    el('figure', { className: 'plot wide' }, el('figcaption', { text: `${metricLabel} per run, in run order` }), el('div', { className: 'canvas-box' }, runsCanvas)),
    el('figure', { className: 'plot' }, el('figcaption', { text: 'Distribution' }), el('div', { className: 'canvas-box' }, distCanvas)),
    el('figure', { className: 'plot' }, el('figcaption', { text: `Δ% with 95% CI vs ±${config.marginPct}% margin` }), el('div', { className: 'canvas-box' }, deltaCanvas)),
  );
  children.push(plots);

  // Per-variant table and, for a matrix, one row per cell.
  const cellsNow = live ? (live.stats?.cells ?? []) : (result?.cells ?? []);
  if (headline) {
    children.push(
      el('h2', { text: 'Variants' }),
      table(['Variant', 'n', 'Median', 'Mean ± σ', 'CV', 'Outliers'], [statsRow(variantLabel(config, key.baseline), headline.a, unit), statsRow(variantLabel(config, key.variant), headline.b, unit)], {
        id: 'variants',
      }),
    );
  }
  if (cellsNow.length > 1) {
    children.push(
      el('h2', { text: 'Matrix' }),
      table(
        ['Variant vs baseline', 'Profile', 'Δ%', '95% CI', 'p', 'Pairs', 'Verdict'],
        cellsNow.map((c) => [`${c.variant} vs ${c.baseline}`, c.profile, pct(c.deltaPct), ciText(c.ci), c.pValue === null ? '–' : c.pValue.toPrecision(2), String(c.pairs), badge(c.verdict)]),
        { id: 'matrix' },
      ),
    );
  }
  children.push(historySection(history));
  app.replaceChildren(...children);

  // Chart.js keeps its charts bound to canvases; the canvases were just recreated, so rebuild
  // the charts on them (cheap at these sizes) and keep references for live updates.
  destroyCharts();
  const s = series(config, key, view.runs);
  const deltaRows: DeltaRow[] = cellsNow
    .filter((c) => c.ci && c.deltaPct !== null)
    .map((c) => ({ label: cellsNow.length > 1 ? `${c.variant}/${c.profile}` : `${c.variant} vs ${c.baseline}`, deltaPct: c.deltaPct!, ci: c.ci!, verdict: c.verdict }));
  charts = {
    key: resultId ?? '',
    runs: runChart(runsCanvas, s),
    dist: distributionChart(distCanvas, s),
    delta: deltaChart(deltaCanvas, deltaRows, config.marginPct),
  };
  runsCanvas.dataset.a = String(s.a.length);
  runsCanvas.dataset.b = String(s.b.length);
  deltaCanvas.dataset.rows = String(deltaRows.length);
}

/** A sample arrived: only the run plot and the status change, so skip the full rebuild. */
function addLiveSample(sample: Sample): void {
  if (!live) return;
  live.runs.push(sample);
  const canvas = document.getElementById('chart-runs') as HTMLCanvasElement | null;
  if (!charts.runs || !canvas || sample.warmup || sample.value === null) return render();
  const s = series(live.config, firstCellKey(live.config, live.cells), live.runs);
  updateRunChart(charts.runs, s);
  canvas.dataset.a = String(s.a.length);
  canvas.dataset.b = String(s.b.length);
}

function onEvent(event: ExperimentEvent): void {
  switch (event.type) {
    case 'started':
      live = { id: event.id, config: event.config, cells: event.cells, runs: [], warnings: [], phase: 'starting' };
      error = undefined;
      empty = undefined;
      break;
    case 'buildStarted':
      if (live) live.phase = `building ${event.variant}`;
      break;
    case 'buildFinished':
      if (live) live.phase = event.ok ? `built ${event.variant}` : `build of ${event.variant} failed`;
      break;
    case 'identicalBinaries':
      if (live) live.phase = `identical binaries: ${event.variants.join(', ')}`;
      break;
    case 'runStarted':
      if (live) live.phase = event.warmup ? `warming up ${event.variant}` : `running`;
      // Cheap: the status line only.
      if (live) {
        const statusEl = document.getElementById('status');
        if (statusEl) {
          statusEl.textContent = [live.phase, live.stats ? `${live.stats.pairs} of at most ${live.stats.maxPairs} pairs` : ''].filter(Boolean).join(' · ');
          return;
        }
      }
      break;
    case 'sample':
      addLiveSample(event.sample);
      return;
    case 'stats':
      if (live) live.stats = { cells: event.cells, pairs: event.pairs, maxPairs: event.maxPairs };
      break;
    case 'warning':
      if (live) live.warnings.push(event.warning);
      break;
    case 'finished':
    case 'cancelled':
    case 'failed':
      setResult(event.result);
      live = undefined;
      break;
  }
  render();
}

function setResult(r: ExperimentResult): void {
  result = r;
  empty = undefined;
  // The saved copy drops stderr tails: a reload re-reads the full result from the store.
  const slim: ExperimentResult = { ...r, runs: r.runs.map((s) => ({ ...s, stderrTail: '' })), builds: r.builds.map((b) => ({ ...b, stderrTail: '' })) };
  transport.setState({ result: slim, history });
}

transport.onMessage((message) => {
  switch (message.type) {
    case 'result':
      live = undefined;
      error = undefined;
      setResult(message.result);
      break;
    case 'event':
      onEvent(message.event);
      return;
    case 'history':
      history = message.history;
      transport.setState({ result: transport.getState()?.result, history });
      break;
    case 'empty':
      if (!result) empty = message.folder;
      break;
    case 'error':
      error = message.message;
      break;
  }
  render();
});

render();
transport.post(result ? { type: 'ready', resultId: result.id } : { type: 'ready' });
