import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../util/atomic-write';
import type { Figure } from './plotly-types';
import { CHROMIUM_HINT, findChromium, plotlyBundlePath, PlotlyRenderer } from './render-png';

/** Name of the shared plotly bundle every HTML figure in a folder loads. */
export const PLOTLY_FILE = 'plotly.min.js';

export interface FigureWriterOptions {
  /** also write a static PNG (needs Chromium) */
  png: boolean;
  /** where warnings go (default: console.warn) */
  warn?: (message: string) => void;
  /** how to find the browser (default: `findChromium`, which honours CHROMIUM_PATH) */
  findBrowser?: () => string | null;
}

/** Files written for one figure; `png` is null when no PNG was made. */
export interface WrittenFigure {
  html: string;
  png: string | null;
}

/**
 * Interactive HTML page for a figure. It loads `plotly.min.js` from its own folder, so a folder
 * of figures works offline and carries one copy of plotly instead of 3.5 MB per file.
 */
export function figureHtml(fig: Figure): string {
  // `<` is escaped so figure text can never close the script element.
  const json = JSON.stringify(fig).replace(/</g, '\\u003c');
  return [
    '<!DOCTYPE html>',
    '<html><head><meta charset="utf-8">',
    `<title>${escapeHtml(fig.layout.title.text)}</title>`,
    `<script src="${PLOTLY_FILE}"></script>`,
    '</head><body style="margin:0">',
    '<div id="figure"></div>',
    `<script>const figure = ${json};`,
    "Plotly.newPlot('figure', figure.data, figure.layout, { responsive: true });</script>",
    '</body></html>',
    '',
  ].join('\n');
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Writes figures as `<name>.html` and `<name>.png` into one folder, reusing one headless Chromium
 * for every PNG. Without Chromium it warns once and writes HTML only. Call `close()` when done.
 */
export class FigureWriter {
  private renderer: PlotlyRenderer | null = null;
  private pngUnavailable = false;
  private readonly warn: (message: string) => void;

  constructor(readonly outDir: string, private readonly options: FigureWriterOptions) {
    this.warn = options.warn ?? ((message) => console.warn(message));
  }

  /** Writes `<outDir>/<name>.html` (and `.png` when asked and possible); both writes are atomic. */
  async write(fig: Figure, name: string): Promise<WrittenFigure> {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) throw new Error(`figure name '${name}' is not a plain file name`);
    this.copyPlotly();
    const html = path.join(this.outDir, `${name}.html`);
    writeFileAtomic(html, figureHtml(fig));
    const renderer = this.options.png ? await this.pngRenderer() : null;
    if (!renderer) return { html, png: null };
    const png = path.join(this.outDir, `${name}.png`);
    writeFileAtomic(png, await renderer.toPng(fig));
    return { html, png };
  }

  async close(): Promise<void> {
    const renderer = this.renderer;
    this.renderer = null;
    if (renderer) await renderer.close();
  }

  /** Copies plotly's bundle next to the HTML files, unless an identical-size copy is there. */
  private copyPlotly(): void {
    const source = plotlyBundlePath();
    const target = path.join(this.outDir, PLOTLY_FILE);
    if (fs.existsSync(target) && fs.statSync(target).size === fs.statSync(source).size) return;
    writeFileAtomic(target, fs.readFileSync(source));
  }

  private async pngRenderer(): Promise<PlotlyRenderer | null> {
    if (this.renderer || this.pngUnavailable) return this.renderer;
    const executable = (this.options.findBrowser ?? findChromium)();
    if (!executable) {
      this.pngUnavailable = true;
      this.warn(`figures: no Chromium found, writing HTML only (${CHROMIUM_HINT})`);
      return null;
    }
    try {
      this.renderer = await PlotlyRenderer.launch(executable);
    } catch (err) {
      this.pngUnavailable = true;
      const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
      this.warn(`figures: could not start ${executable} (${reason}), writing HTML only (${CHROMIUM_HINT})`);
    }
    return this.renderer;
  }
}

/** Writes one figure (HTML, and PNG when asked); opens and closes a browser for it. */
export async function writeFigure(fig: Figure, name: string, outDir: string, options: FigureWriterOptions): Promise<WrittenFigure> {
  const writer = new FigureWriter(outDir, options);
  try {
    return await writer.write(fig, name);
  } finally {
    await writer.close();
  }
}
