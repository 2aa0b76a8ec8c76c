import * as fs from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import type { Figure } from './plotly-types';

/** Flags for a headless Chromium that never reaches the network. */
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export const CHROMIUM_HINT = 'install it with `apt-get install chromium` or point CHROMIUM_PATH at a Chrome/Chromium binary';

/** Path of plotly's browser bundle in node_modules. */
export function plotlyBundlePath(): string {
  return require.resolve('plotly.js-dist-min');
}

/** The Chromium binary to use: $CHROMIUM_PATH, else the usual system locations; null when none exists. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | null {
  const candidates = [
    env.CHROMIUM_PATH,
    '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable',
    '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  ];
  for (const candidate of candidates) {
    if (candidate && fs.existsSync(candidate)) return candidate;
  }
  return null;
}

/** Plotly as the page sees it: only the export call is used. */
interface PlotlyGlobal {
  toImage(fig: Figure, options: { format: 'png'; width: number; height: number; scale: number }): Promise<string>;
}

/**
 * Renders figures to PNG with plotly.js inside one headless Chromium page: the browser and
 * plotly load once (a few seconds), then each figure takes a fraction of a second.
 */
export class PlotlyRenderer {
  private constructor(private readonly browser: Browser, private readonly page: Page) {}

  /** Starts Chromium at `executablePath` and loads plotly into a blank page. */
  static async launch(executablePath: string): Promise<PlotlyRenderer> {
    // Loaded on first use: playwright takes about a second to load and most callers never need it.
    const { chromium } = require('playwright-core') as typeof import('playwright-core');
    const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage();
      await page.setContent('<!DOCTYPE html><html><body></body></html>');
      await page.addScriptTag({ path: plotlyBundlePath() });
      return new PlotlyRenderer(browser, page);
    } catch (err) {
      await browser.close();
      throw err;
    }
  }

  /** PNG bytes of `fig` at its layout size; `scale` 2 gives sharp images on high-DPI screens. */
  async toPng(fig: Figure, scale = 2): Promise<Uint8Array> {
    const url = await this.page.evaluate(
      ({ figure, s }) => (globalThis as unknown as { Plotly: PlotlyGlobal }).Plotly.toImage(
        figure, { format: 'png', width: figure.layout.width, height: figure.layout.height, scale: s }),
      { figure: fig, s: scale },
    );
    const prefix = 'data:image/png;base64,';
    if (!url.startsWith(prefix)) throw new Error('plotly did not return a PNG data URL');
    return Buffer.from(url.slice(prefix.length), 'base64');
  }

  async close(): Promise<void> {
    await this.browser.close();
  }
}
