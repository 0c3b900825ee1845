/**
 * The one place numbers, sizes and dates become text, in the browser's locale: every screen uses
 * these, so a size reads the same everywhere (decimal units, as the clouds and file managers
 * show them: 1 MB = 1,000,000 bytes).
 */

const UNITS = ['byte', 'kilobyte', 'megabyte', 'gigabyte', 'terabyte'] as const;
const byteFormats = new Map<string, Intl.NumberFormat>();

function byteFormat(unit: (typeof UNITS)[number], digits: number): Intl.NumberFormat {
  const key = `${unit}:${digits}`;
  let f = byteFormats.get(key);
  if (!f) {
    f = new Intl.NumberFormat(undefined, {
      style: 'unit',
      unit,
      unitDisplay: 'short',
      maximumFractionDigits: digits,
    });
    byteFormats.set(key, f);
  }
  return f;
}

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  let v = Math.abs(n);
  let i = 0;
  while (v >= 1000 && i < UNITS.length - 1) {
    v /= 1000;
    i += 1;
  }
  return byteFormat(UNITS[i]!, i === 0 ? 0 : v < 10 ? 1 : 0).format(n < 0 ? -v : v);
}

const count = new Intl.NumberFormat();
export function formatCount(n: number): string {
  return count.format(n);
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '–';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const hrs = Math.floor(m / 60);
  return `${hrs} h ${m % 60} min`;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dayOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const weekdayDay = new Intl.DateTimeFormat(undefined, {
  weekday: 'short',
  day: 'numeric',
  month: 'short',
});

function parse(iso: string | Date | null | undefined): Date | undefined {
  if (!iso) return undefined;
  const d = iso instanceof Date ? iso : new Date(iso);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

export function formatDate(iso: string | Date | null | undefined): string {
  const d = parse(iso);
  return d ? dateTime.format(d) : typeof iso === 'string' && iso ? iso : '–';
}

export function formatDay(iso: string | Date | null | undefined): string {
  const d = parse(iso);
  return d ? dayOnly.format(d) : '–';
}

/** "Tue 1 Dec": the strip's day labels. */
export function formatWeekday(d: Date): string {
  return weekdayDay.format(d);
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
/** "3 hours ago", "in 2 days": when something happened or will, near now. */
export function formatRelative(iso: string | Date | null | undefined, now = Date.now()): string {
  const d = parse(iso);
  if (!d) return '–';
  const s = (d.getTime() - now) / 1000;
  const a = Math.abs(s);
  if (a < 45) return relative.format(Math.round(s), 'second');
  if (a < 45 * 60) return relative.format(Math.round(s / 60), 'minute');
  if (a < 22 * 3600) return relative.format(Math.round(s / 3600), 'hour');
  if (a < 26 * 86400) return relative.format(Math.round(s / 86400), 'day');
  return formatDate(d);
}

/** The local calendar day of a date, as `YYYY-MM-DD` (for grouping runs by day). */
export function localDayKey(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}
