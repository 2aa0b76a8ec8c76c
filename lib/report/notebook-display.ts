import type { DataFrame } from 'danfojs-node';
import type { Figure } from './plotly-types';
import { CHROMIUM_HINT, findChromium, PlotlyRenderer } from './render-png';
import { toMarkdown, type Table } from './tables';

/** A Jupyter display message's content: one entry per MIME type, the front end picks the richest it can show. */
export interface DisplayBundle {
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

/**
 * A figure as a display bundle: plotly JSON (interactive where the front end has the plotly
 * renderer), a PNG (GitHub, nbviewer, JupyterLab without the extension) and a text fallback.
 * @param png PNG bytes of the figure rendered at scale 2, or null to leave the PNG out
 */
export function figureBundle(fig: Figure, png: Uint8Array | null, note = ''): DisplayBundle {
  const data: Record<string, unknown> = {
    'application/vnd.plotly.v1+json': { data: fig.data, layout: fig.layout, config: { responsive: true } },
  };
  const metadata: Record<string, unknown> = {};
  if (png) {
    data['image/png'] = Buffer.from(png).toString('base64');
    // Rendered at scale 2: shown at the layout's size, sharp on high-DPI screens.
    metadata['image/png'] = { width: fig.layout.width, height: fig.layout.height };
  }
  data['text/plain'] = `[figure] ${fig.layout.title.text} (${fig.data.length} traces)${note ? `\n${note}` : ''}`;
  return { data, metadata };
}

type WriteDisplayData = (content: DisplayBundle & { transient: Record<string, unknown> }, update: boolean) => void;

/**
 * tslab's function that sends a display message for the running cell. tslab's public
 * `display` sends one MIME type per message, so the bundle goes through the kernel's own
 * writer, found among the loaded modules; null outside a tslab kernel.
 */
function kernelDisplayWriter(): WriteDisplayData | null {
  for (const file of Object.keys(require.cache)) {
    if (!/[\\/]tslab[\\/]dist[\\/]jupyter\.js$/.test(file)) continue;
    const write: unknown = require.cache[file]?.exports?.lastWriteDisplayData;
    if (typeof write === 'function') return write as WriteDisplayData;
  }
  return null;
}

/** Sends a bundle to the notebook, or prints its text outside a kernel (scripts, tests). */
export function displayBundle(bundle: DisplayBundle): void {
  const write = kernelDisplayWriter();
  if (write) write({ ...bundle, transient: {} }, false);
  else console.log(String(bundle.data['text/plain'] ?? ''));
}

// One browser per kernel, started on the first figure and closed after a minute without use.
let renderer: Promise<PlotlyRenderer | null> | null = null;
let idleTimer: ReturnType<typeof setTimeout> | null = null;
let pngNote = '';
const IDLE_MS = 60_000;

function notebookRenderer(): Promise<PlotlyRenderer | null> {
  if (idleTimer) clearTimeout(idleTimer);
  if (!renderer) {
    const executable = findChromium();
    pngNote = executable ? '' : `(no PNG: Chromium not found; ${CHROMIUM_HINT})`;
    renderer = executable
      ? PlotlyRenderer.launch(executable).catch((err: unknown) => {
        pngNote = `(no PNG: Chromium failed to start: ${err instanceof Error ? err.message.split('\n')[0] : String(err)})`;
        return null;
      })
      : Promise.resolve(null);
  }
  const current = renderer;
  idleTimer = setTimeout(() => {
    renderer = null;
    void current.then((r) => r?.close());
  }, IDLE_MS);
  idleTimer.unref();
  return current;
}

/** Shows a plotly figure in a tslab notebook: interactive plotly, a PNG and a text fallback in one output. */
export async function showFigure(fig: Figure): Promise<void> {
  const r = await notebookRenderer();
  const png = r ? await r.toPng(fig) : null;
  displayBundle(figureBundle(fig, png, pngNote));
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A DataFrame as an HTML table (Jupyter's usual table look) plus danfo's text rendering. */
export function dataFrameBundle(df: DataFrame): DisplayBundle {
  const columns = df.columns.map(String);
  const rows = df.values as unknown[][];
  const cell = (v: unknown): string => escapeHtml(typeof v === 'number' ? String(Number(v.toPrecision(6))) : String(v ?? ''));
  const html = [
    '<table>',
    `<thead><tr>${columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead>`,
    `<tbody>${rows.map((row) => `<tr>${row.map((v) => `<td>${cell(v)}</td>`).join('')}</tr>`).join('')}</tbody>`,
    '</table>',
  ].join('');
  return { data: { 'text/html': html, 'text/plain': df.toString() }, metadata: {} };
}

function isReportTable(table: Table | DataFrame): table is Table {
  return Array.isArray((table as Table).rows);
}

/** Shows a table: Markdown text, a report `Table` or a danfo DataFrame. */
export function showTable(table: string | Table | DataFrame): void {
  if (typeof table !== 'string' && !isReportTable(table)) {
    displayBundle(dataFrameBundle(table));
    return;
  }
  const markdown = typeof table === 'string' ? table : toMarkdown(table);
  displayBundle({ data: { 'text/markdown': markdown, 'text/plain': markdown }, metadata: {} });
}
