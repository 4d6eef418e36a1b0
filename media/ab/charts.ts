// The three plots of the A/B panel, on Chart.js. Only the pieces we use are registered, so the
// bundle stays small; nothing here evaluates strings or writes style attributes (strict CSP).
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartDataset,
  type Plugin,
} from 'chart.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Tooltip, Legend);

/** Colours from the active VS Code theme (the webview gets them as CSS variables). */
interface Palette {
  a: string;
  b: string;
  fg: string;
  grid: string;
  band: string;
  go: string;
  nogo: string;
  neutral: string;
}

function readPalette(): Palette {
  const css = getComputedStyle(document.documentElement);
  const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  return {
    a: v('--vscode-charts-blue', '#3794ff'),
    b: v('--vscode-charts-orange', '#d18616'),
    fg: v('--vscode-charts-foreground', v('--vscode-foreground', '#cccccc')),
    grid: v('--vscode-charts-lines', '#80808040'),
    band: v('--vscode-charts-green', '#89d185'),
    go: v('--vscode-charts-green', '#89d185'),
    nogo: v('--vscode-charts-red', '#f14c4c'),
    neutral: v('--vscode-charts-yellow', '#cca700'),
  };
}

/** Any CSS colour (`#rgb`, `rgb()`, names) with the given alpha, via the canvas' own parser. */
function withAlpha(color: string, alpha: number): string {
  const ctx = document.createElement('canvas').getContext('2d');
  if (!ctx) return color;
  ctx.fillStyle = '#000';
  ctx.fillStyle = color;
  const norm = ctx.fillStyle; // '#rrggbb' or 'rgba(r, g, b, a)'
  const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(norm);
  if (hex) return `rgba(${parseInt(hex[1], 16)}, ${parseInt(hex[2], 16)}, ${parseInt(hex[3], 16)}, ${alpha})`;
  const rgba = /^rgba?\(([^,]+),([^,]+),([^,)]+)/.exec(norm);
  return rgba ? `rgba(${rgba[1].trim()}, ${rgba[2].trim()}, ${rgba[3].trim()}, ${alpha})` : color;
}

let palette = readPalette();
const charts = new Set<Chart>();

function applyDefaults(): void {
  Chart.defaults.color = palette.fg;
  Chart.defaults.borderColor = palette.grid;
  Chart.defaults.font.family = getComputedStyle(document.body).getPropertyValue('--vscode-font-family').trim() || 'sans-serif';
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
}
applyDefaults();

/** VS Code rewrites the theme variables on <html> and the theme class on <body>: recolour in place. */
const themeObserver = new MutationObserver(() => {
  palette = readPalette();
  applyDefaults();
  for (const c of charts) {
    recolour(c);
    c.update('none');
  }
});
themeObserver.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
themeObserver.observe(document.body, { attributes: true, attributeFilter: ['class'] });

function recolour(chart: Chart): void {
  for (const ds of chart.data.datasets) {
    const role = (ds as { role?: keyof Palette }).role;
    if (!role) continue;
    ds.borderColor = palette[role];
    ds.backgroundColor = role === 'a' || role === 'b' ? withAlpha(palette[role], 0.6) : palette[role];
  }
  for (const scale of Object.values(chart.options.scales ?? {})) {
    if (!scale) continue;
    scale.ticks = { ...scale.ticks, color: palette.fg };
    scale.grid = { ...scale.grid, color: palette.grid };
  }
}

function track(chart: Chart): Chart {
  charts.add(chart);
  return chart;
}

export function destroyCharts(): void {
  for (const c of charts) c.destroy();
  charts.clear();
}

// ---------------------------------------------------------------------------------------------
// Runs in order

export interface RunSeries {
  /** Labels of the variants, e.g. `QUILL_X=0` and `QUILL_X=1`. */
  labels: [string, string];
  /** The samples of A and B in the order they ran (warmups excluded). */
  a: number[];
  b: number[];
  unit: string;
  /** Formats a value of this metric for axes and labels (`57.3 M`). */
  format: (v: number) => string;
}

function seriesData(values: number[]) {
  return values.map((y, i) => ({ x: i + 1, y }));
}

export function runChart(canvas: HTMLCanvasElement, s: RunSeries): Chart {
  const ds = (label: string, values: number[], role: 'a' | 'b'): ChartDataset<'line'> & { role: string } => ({
    label,
    role,
    data: seriesData(values),
    borderColor: palette[role],
    backgroundColor: withAlpha(palette[role], 0.6),
    borderWidth: 1.5,
    pointRadius: 2.5,
    tension: 0,
  });
  return track(
    new Chart(canvas, {
      type: 'line',
      data: { datasets: [ds(s.labels[0], s.a, 'a'), ds(s.labels[1], s.b, 'b')] },
      options: {
        parsing: false,
        normalized: true,
        interaction: { mode: 'nearest', intersect: false },
        scales: {
          x: { type: 'linear', title: { display: true, text: 'pair (run order)' }, ticks: { precision: 0 } },
          y: { type: 'linear', title: { display: true, text: s.unit }, ticks: { callback: (v) => s.format(Number(v)) } },
        },
        plugins: { legend: { position: 'bottom' } },
      },
    }),
  );
}

/** Replaces the samples of the run plot (live events add a pair at a time). */
export function updateRunChart(chart: Chart, s: RunSeries): void {
  chart.data.datasets[0].data = seriesData(s.a);
  chart.data.datasets[1].data = seriesData(s.b);
  chart.data.datasets[0].label = s.labels[0];
  chart.data.datasets[1].label = s.labels[1];
  chart.update('none');
}

// ---------------------------------------------------------------------------------------------
// Distribution: a shared-bin histogram of A and B

export function histogram(a: number[], b: number[], bins = 12): { edges: number[]; a: number[]; b: number[] } {
  const all = [...a, ...b].filter(Number.isFinite);
  if (all.length === 0) return { edges: [], a: [], b: [] };
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  if (lo === hi) {
    lo -= Math.abs(lo) * 0.001 || 0.5;
    hi += Math.abs(hi) * 0.001 || 0.5;
  }
  const n = Math.max(1, Math.min(bins, Math.ceil(Math.sqrt(all.length)) + 2));
  const width = (hi - lo) / n;
  const edges = Array.from({ length: n + 1 }, (_, i) => lo + i * width);
  const count = (xs: number[]) => {
    const out = new Array<number>(n).fill(0);
    for (const x of xs) if (Number.isFinite(x)) out[Math.min(n - 1, Math.floor((x - lo) / width))]++;
    return out;
  };
  return { edges, a: count(a), b: count(b) };
}

export function distributionChart(canvas: HTMLCanvasElement, s: RunSeries): Chart {
  const h = histogram(s.a, s.b);
  const labels = h.edges.slice(0, -1).map((e, i) => s.format((e + h.edges[i + 1]) / 2));
  const ds = (label: string, data: number[], role: 'a' | 'b'): ChartDataset<'bar'> & { role: string } => ({
    label,
    role,
    data,
    borderColor: palette[role],
    backgroundColor: withAlpha(palette[role], 0.6),
    borderWidth: 1,
  });
  return track(
    new Chart(canvas, {
      type: 'bar',
      data: { labels, datasets: [ds(s.labels[0], h.a, 'a'), ds(s.labels[1], h.b, 'b')] },
      options: {
        scales: {
          x: { title: { display: true, text: `${s.unit} (bin centre)` } },
          y: { title: { display: true, text: 'runs' }, ticks: { precision: 0 }, beginAtZero: true },
        },
        plugins: { legend: { position: 'bottom' } },
      },
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Δ% with its confidence interval against the ±margin band

export interface DeltaRow {
  label: string;
  deltaPct: number;
  ci: [number, number];
  verdict: string;
}

/** Draws the ±margin band and the zero line under the CI bars, and the Δ marker over them. */
const marginBand: Plugin<'bar'> = {
  id: 'allocLensMarginBand',
  afterDatasetsDraw(chart, _args, options: { deltas?: number[] }) {
    const x = chart.scales.x;
    const ctx = chart.ctx;
    ctx.save();
    ctx.fillStyle = palette.fg;
    chart.getDatasetMeta(0).data.forEach((bar, i) => {
      const d = options.deltas?.[i];
      if (d === undefined || !Number.isFinite(d)) return;
      const px = x.getPixelForValue(d);
      const py = bar.y;
      ctx.beginPath();
      ctx.moveTo(px, py - 6);
      ctx.lineTo(px + 6, py);
      ctx.lineTo(px, py + 6);
      ctx.lineTo(px - 6, py);
      ctx.closePath();
      ctx.fill();
    });
    ctx.restore();
  },
  beforeDatasetsDraw(chart, _args, options: { margin?: number }) {
    const margin = options.margin ?? 0;
    const x = chart.scales.x;
    const area = chart.chartArea;
    const ctx = chart.ctx;
    ctx.save();
    ctx.fillStyle = withAlpha(palette.band, 0.15);
    const left = x.getPixelForValue(-margin);
    ctx.fillRect(left, area.top, x.getPixelForValue(margin) - left, area.bottom - area.top);
    ctx.strokeStyle = palette.fg;
    ctx.globalAlpha = 0.6;
    ctx.setLineDash([4, 3]);
    ctx.beginPath();
    const zero = x.getPixelForValue(0);
    ctx.moveTo(zero, area.top);
    ctx.lineTo(zero, area.bottom);
    ctx.stroke();
    ctx.restore();
  },
};

function verdictColour(verdict: string): string {
  if (verdict === 'GO') return palette.go;
  if (verdict === 'NO-GO') return palette.nogo;
  if (verdict === 'NEUTRAL') return palette.neutral;
  return palette.fg;
}

function deltaLimits(rows: DeltaRow[], margin: number): number {
  const extent = Math.max(margin, ...rows.flatMap((r) => [Math.abs(r.ci[0]), Math.abs(r.ci[1]), Math.abs(r.deltaPct)]).filter(Number.isFinite));
  return Math.ceil(extent * 1.25 * 10) / 10 || 1;
}

export function deltaChart(canvas: HTMLCanvasElement, rows: DeltaRow[], margin: number): Chart {
  const lim = deltaLimits(rows, margin);
  return track(
    new Chart(canvas, {
      type: 'bar',
      data: {
        labels: rows.map((r) => r.label),
        datasets: [
          {
            label: '95% CI of Δ%',
            data: rows.map((r) => r.ci),
            backgroundColor: rows.map((r) => withAlpha(verdictColour(r.verdict), 0.4)),
            borderColor: rows.map((r) => verdictColour(r.verdict)),
            borderWidth: 1,
            borderSkipped: false,
            barPercentage: 0.5,
            maxBarThickness: 28,
          },
        ],
      },
      options: {
        indexAxis: 'y',
        scales: {
          x: { type: 'linear', min: -lim, max: lim, title: { display: true, text: `Δ% (B vs A) ◆ with 95% CI; band = ±${margin}% margin` } },
          y: { type: 'category' },
        },
        plugins: {
          legend: { display: false },
          allocLensMarginBand: { margin, deltas: rows.map((r) => r.deltaPct) },
          tooltip: {
            callbacks: {
              label: (item: { dataIndex: number }) => {
                const r = rows[item.dataIndex];
                return `Δ ${r.deltaPct.toFixed(2)}% [${r.ci[0].toFixed(2)}, ${r.ci[1].toFixed(2)}] ${r.verdict}`;
              },
            },
          },
        } as Record<string, unknown>,
      },
      plugins: [marginBand],
    }),
  );
}
