import type { DataFrame } from 'danfojs-node';
import type { Method, RunRecord } from '../experiments/records';
import { writeFileAtomic } from '../util/atomic-write';
import { formatPublishedAccuracy, PUBLISHED_RESULTS } from './published';
import { accuracySummary, formatSummary, groupRecords, labelPercents, summarise, type Summary } from './stats';
import { METHOD_STYLES, SIDE_METHODS, orderMethods } from './style';

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

/** The records of the main comparison: every method but the ablation arms and pretraining checkpoints (tables of their own). */
export function mainRecords(records: RunRecord[]): RunRecord[] {
  return records.filter((r) => !SIDE_METHODS.has(r.method));
}

/** "3/3": how many of the runs that trained something ended on a validation plateau; null when none trained. */
function plateauCount(records: RunRecord[]): string | null {
  const judged = records.filter((r) => r.plateau !== null && r.plateau !== undefined);
  return judged.length === 0 ? null : `${judged.filter((r) => r.plateau).length}/${judged.length}`;
}

/**
 * The per-seed metrics pivot: one row per (method, label %), test accuracy as mean ± std over the
 * seeds with its 95 % bootstrap interval, the other metrics as mean ± std, the seed count n, and
 * what each run cost: real epochs (passes over the labelled subset), real epochs to the best
 * validation accuracy, optimizer steps, images seen, wall seconds, and how many runs ended on a
 * validation plateau.
 */
export function metricsTable(records: RunRecord[]): Table {
  // cost columns are means over the seeds, without a spread: they vary little and the row would not fit
  const mean = (values: number[]): number | null => (values.length > 0 ? summarise(values).mean : null);
  return {
    columns: [
      { name: 'Method' }, { name: 'Labels (%)' }, { name: 'n' },
      { name: 'Test accuracy (%)', digits: 1 }, { name: 'Macro F1 (%)', digits: 1 }, { name: 'Best val. accuracy (%)', digits: 1 },
      { name: 'Real epochs', digits: 1 }, { name: 'Epochs to best', digits: 1 }, { name: 'Steps', digits: 0 },
      { name: 'Images seen', digits: 0 }, { name: 'Wall (s)', digits: 1 }, { name: 'Plateau' },
    ],
    rows: groupRecords(mainRecords(records)).map(({ method, labelPct, records: rs }) => {
      const trained = rs.filter((r) => r.steps > 0);
      return [
        METHOD_STYLES[method].label, labelPct, rs.length,
        accuracySummary(rs), pct(rs.map((r) => r.macroF1)), pct(rs.map((r) => r.valAccuracy)),
        mean(trained.map((r) => r.realEpochs)), mean(trained.map((r) => r.epochsToBest).filter((e): e is number => e !== null)),
        mean(trained.map((r) => r.steps)), mean(trained.map((r) => r.imagesSeen)), mean(rs.map((r) => r.wallSeconds)),
        plateauCount(rs),
      ];
    }),
  };
}

/**
 * Test accuracy (%) as mean ± std over seeds and the 95 % bootstrap interval of the mean: one row
 * per method, one column per label %. At 100 % labels every seed trains on the same labelled set,
 * so there the spread is over training randomness only (the column name says so).
 */
export function summaryTable(records: RunRecord[]): Table {
  const main = mainRecords(records);
  const pcts = labelPercents(main).reverse();
  const groups = groupRecords(main);
  return {
    columns: [{ name: 'Method' }, ...pcts.map((p) => ({ name: p === 100 ? '100% labels (same set every seed)' : `${p}% labels`, digits: 1 }))],
    rows: orderMethods(main.map((r) => r.method)).map((method) => [
      METHOD_STYLES[method].label,
      ...pcts.map((p) => {
        const group = groups.find((g) => g.method === method && g.labelPct === p);
        return group ? accuracySummary(group.records) : null;
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
  // real epochs of the supervised runs (passes over the labelled set), comparable with the published epochs
  const ours: Cell[][] = orderMethods(full.map((r) => r.method)).map((method) => {
    const rs = full.filter((r) => r.method === method);
    const ssl = SSL_METHODS.has(method);
    const epochs = ssl
      ? (context.pretrainEpochs === undefined ? '–' : `${context.pretrainEpochs} pretraining`)
      : range(rs.map((r) => r.realEpochs));
    const backends = [...new Set(rs.map((r) => r.backend))].join(', ');
    return [
      `this project, preset \`${context.preset}\``, METHOD_STYLES[method].label, context.encoder ?? '–', 100, epochs,
      (ssl ? context.pretrainBatch : context.supervisedBatch) ?? null,
      [context.hardware, `tfjs ${backends} backend`].filter(Boolean).join(', '),
      accuracySummary(rs),
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
    (summaryColumn[c] ? [`${col.name} mean`, `${col.name} std`, `${col.name} n`, `${col.name} ci low`, `${col.name} ci high`] : [col.name]));
  const rows = table.rows.map((row) => row.flatMap((cell, c) => {
    if (!summaryColumn[c]) return [isSummary(cell) ? null : cell];
    return isSummary(cell) ? [cell.mean, cell.std, cell.n, cell.ci?.[0] ?? null, cell.ci?.[1] ?? null] : [null, null, null, null, null];
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
