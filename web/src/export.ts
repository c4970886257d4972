// Export of the shown chart data. CSV is built here; Excel uses write-excel-file (fflate zip,
// ~25 KB gzip), loaded only when someone clicks the button so the first page stays light.
import { toCsv } from './format';

export type Row = (string | number | null)[];

function download(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export function downloadCsv(rows: Row[], fileName: string): void {
  download(new Blob([toCsv(rows)], { type: 'text/csv;charset=utf-8' }), fileName);
}

/** Typed cells: numbers stay numbers in Excel, the header row is bold. */
export async function xlsxBlob(rows: Row[], sheet: string): Promise<Blob> {
  const { default: writeXlsxFile } = await import('write-excel-file/universal');
  const data = rows.map((r, i) =>
    r.map((c) => {
      if (c === null || c === undefined || c === '') return null;
      if (typeof c === 'number') return { value: c, type: Number };
      return { value: c, type: String, fontWeight: i === 0 ? ('bold' as const) : undefined };
    }),
  );
  // Sheet names are limited to 31 characters and some punctuation.
  const name = sheet.replace(/[\\/?*[\]:]/g, ' ').slice(0, 31);
  return writeXlsxFile(data as never, { sheet: name }).toBlob();
}

export async function downloadXlsx(rows: Row[], fileName: string, sheet: string): Promise<void> {
  download(await xlsxBlob(rows, sheet), fileName);
}
