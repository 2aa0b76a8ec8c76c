import type { DataFrame } from 'danfojs-node';
import type { Method, RunRecord } from '../experiments/records';
import { writeFileAtomic } from '../util/atomic-write';
import { formatPublishedAccuracy, PUBLISHED_RESULTS } from './published';
import { formatSummary, groupRecords, labelPercents, summarise, type Summary } from './stats';
import { METHOD_STYLES, orderMethods } from './style';

/** A table cell: text, a number, a mean ± std over seeds, or empty. */
export type Cell = string | number | Summary | null;

export interface Column {
  name: string;
  /** decimals for numbers and summaries in Markdown */
  digits?: number;
}

/** A small typed table; Markdown, CSV and DataFrame views are made from it. */
export interface Table {
  columns: Column[];
  rows: Cell[][];
}

function isSummary(cell: Cell): cell is Summary {
  return typeof cell === 'object' && cell !== null;
}

const pct = (values: number[]): Summary => {
  const s = summarise(values);
  return { mean: 100 * s.mean, std: 100 * s.std, n: s.n };
};

/**
 * The per-seed metrics pivot: one row per (method, label %), each metric as mean ± std over the
 * seeds (in %), with the seed count n. Convergence is in epochs and skips runs without one.
 */
export function metricsTable(records: RunRecord[]): Table {
  return {
    columns: [
      { name: 'Method' }, { name: 'Labels (%)' }, { name: 'n' },
      { name: 'Test accuracy (%)', digits: 1 }, { name: 'Macro precision (%)', digits: 1 },
      { name: 'Macro recall (%)', digits: 1 }, { name: 'Macro F1 (%)', digits: 1 },
      { name: 'Convergence (epochs)', digits: 1 },
    ],
    rows: groupRecords(records).map(({ method, labelPct, records: rs }) => {
      const epochs = rs.map((r) => r.convergenceEpoch).filter((e): e is number => e !== null);
      return [
        METHOD_STYLES[method].label, labelPct, rs.length,
        pct(rs.map((r) => r.testAccuracy)), pct(rs.map((r) => r.macroPrecision)),
        pct(rs.map((r) => r.macroRecall)), pct(rs.map((r) => r.macroF1)),
        epochs.length > 0 ? summarise(epochs) : null,
      ];
    }),
  };
}

/** Test accuracy (%) as mean ± std over seeds: one row per method, one column per label %. */
export function summaryTable(records: RunRecord[]): Table {
  const pcts = labelPercents(records).reverse();
  const groups = groupRecords(records);
  return {
    columns: [{ name: 'Method' }, ...pcts.map((p) => ({ name: `${p}% labels`, digits: 1 }))],
    rows: orderMethods(records.map((r) => r.method)).map((method) => [
      METHOD_STYLES[method].label,
      ...pcts.map((p) => {
        const group = groups.find((g) => g.method === method && g.labelPct === p);
        return group ? pct(group.records.map((r) => r.testAccuracy)) : null;
      }),
    ]),
  };
}

/** What the comparison says about our runs besides the records: taken from the preset and the pretraining runs. */
export interface ComparisonContext {
  preset: string;
  /** e.g. 'ResNet, width 16, blocks per stage 1-1-1' */
  encoder?: string;
  /** epochs of the SimCLR pretraining run the SSL rows start from */
  pretrainEpochs?: number;
  pretrainBatch?: number;
  supervisedBatch?: number;
  /** where the runs were measured, e.g. a CPU model; the tfjs backend is always stated */
  hardware?: string;
}

/** Our rows in the comparison: the methods that have a published counterpart, at 100% labels. */
export const COMPARED_METHODS: Method[] = ['simclr-linear', 'simclr-knn', 'simclr-finetune', 'supervised-resnet'];

const SSL_METHODS = new Set<Method>(['simclr-linear', 'simclr-knn', 'simclr-finetune']);

function range(values: number[]): string {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return lo === hi ? `${lo}` : `${lo}–${hi}`;
}

/**
 * Published CIFAR-10 results beside ours (all labels), with epochs, batch and hardware so the
 * gap can be read for what it is.
 */
export function comparisonTable(records: RunRecord[], context: ComparisonContext): Table {
  const columns: Column[] = [
    { name: 'Source' }, { name: 'Method' }, { name: 'Encoder' }, { name: 'Labels (%)' }, { name: 'Epochs' },
    { name: 'Batch' }, { name: 'Hardware' }, { name: 'Test accuracy (%)', digits: 1 },
  ];
  const published: Cell[][] = PUBLISHED_RESULTS.map((p) => [
    p.url ? `[${p.source}](${p.url})` : p.source, p.method, p.encoder, p.labelPct, p.epochs,
    p.batchSize, p.hardware, formatPublishedAccuracy(p.accuracy),
  ]);
  const full = records.filter((r) => r.labelPct === 100 && COMPARED_METHODS.includes(r.method));
  const ours: Cell[][] = orderMethods(full.map((r) => r.method)).map((method) => {
    const rs = full.filter((r) => r.method === method);
    const ssl = SSL_METHODS.has(method);
    const epochs = ssl
      ? (context.pretrainEpochs === undefined ? '–' : `${context.pretrainEpochs} pretraining`)
      : range(rs.map((r) => r.epochsRun));
    const backends = [...new Set(rs.map((r) => r.backend))].join(', ');
    return [
      `this project, preset \`${context.preset}\``, METHOD_STYLES[method].label, context.encoder ?? '–', 100, epochs,
      (ssl ? context.pretrainBatch : context.supervisedBatch) ?? null,
      [context.hardware, `tfjs ${backends} backend`].filter(Boolean).join(', '),
      pct(rs.map((r) => r.testAccuracy)),
    ];
  });
  return { columns, rows: [...published, ...ours] };
}

function formatCell(cell: Cell, column: Column): string {
  if (cell === null) return '–';
  if (isSummary(cell)) return formatSummary(cell, column.digits ?? 1);
  if (typeof cell === 'number') return column.digits === undefined ? String(cell) : cell.toFixed(column.digits);
  return cell;
}

/** GitHub-flavoured Markdown; numbers right-aligned, mean ± std as `85.2 ± 0.3` (no ± when n = 1). */
export function toMarkdown(table: Table): string {
  const numeric = table.columns.map((_, c) => table.rows.length > 0 && table.rows.every((row) => typeof row[c] !== 'string'));
  const escape = (text: string): string => text.replace(/\|/g, '\\|');
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [
    line(table.columns.map((c) => escape(c.name))),
    line(numeric.map((n) => (n ? '---:' : '---'))),
    ...table.rows.map((row) => line(row.map((cell, c) => escape(formatCell(cell, table.columns[c]))))),
  ].join('\n') + '\n';
}

/** Column names and plain values for CSV and DataFrames: a summary column becomes mean, std and n columns. */
export function flattenTable(table: Table): { columns: string[]; rows: Array<Array<string | number | null>> } {
  const summaryColumn = table.columns.map((_, c) => table.rows.some((row) => isSummary(row[c])));
  const columns = table.columns.flatMap((col, c) =>
    (summaryColumn[c] ? [`${col.name} mean`, `${col.name} std`, `${col.name} n`] : [col.name]));
  const rows = table.rows.map((row) => row.flatMap((cell, c) => {
    if (!summaryColumn[c]) return [isSummary(cell) ? null : cell];
    return isSummary(cell) ? [cell.mean, cell.std, cell.n] : [null, null, null];
  }));
  return { columns, rows };
}

/** RFC 4180 CSV with full-precision numbers (empty cell for missing values). */
export function toCsv(table: Table): string {
  const { columns, rows } = flattenTable(table);
  const cell = (v: string | number | null): string => {
    const text = v === null ? '' : String(v);
    return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return [columns.map(cell).join(','), ...rows.map((row) => row.map(cell).join(','))].join('\n') + '\n';
}

/** Writes `toCsv(table)` to `file` atomically. */
export function writeTableCsv(table: Table, file: string): void {
  writeFileAtomic(file, toCsv(table));
}

/** The table as a danfo DataFrame (summary columns split into mean, std and n), for notebooks. */
export function toDataFrame(table: Table): DataFrame {
  // danfo loads tfjs on import (about two seconds), so only callers that want a DataFrame pay for it.
  const dfd = require('danfojs-node') as typeof import('danfojs-node');
  const { columns, rows } = flattenTable(table);
  return new dfd.DataFrame(rows, { columns });
}
