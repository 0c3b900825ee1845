import { CronExpressionParser } from 'cron-parser';
import { DateTime, IANAZone } from 'luxon';

export type ScheduleKind = 'none' | 'daily' | 'weekly' | 'monthly' | 'cron';
export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
export const WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** A task's schedule as stored (JSON in `tasks.schedule`) and returned by the API. */
export interface Schedule {
  kind: ScheduleKind;
  /** 'HH:MM', 24 h, local time in `timezone` (daily, weekly, monthly). */
  time?: string;
  /** weekly: the days it runs on. */
  weekdays?: Weekday[];
  /** monthly: 1..31; see MONTH_END_RULE for days a month does not have. */
  dayOfMonth?: number;
  /** cron: five fields, minute hour day-of-month month day-of-week, in `timezone`. */
  cron?: string;
  /** IANA zone ('Europe/Berlin'); every kind except 'none' needs one. */
  timezone?: string;
}

/** The rules the API returns beside a schedule, so the UI can say what happens on odd days. */
export const MONTH_END_RULE =
  'a day the month does not have (29-31) runs on the last day of that month instead (day 31 in April runs on April 30; day 30 in February on the 28th or 29th)';
export const DST_RULE =
  'a local time skipped when clocks go forward runs once, shifted by the gap (02:30 becomes 03:30); a local time that occurs twice when clocks go back runs once, at its first occurrence';

export interface ScheduleInput {
  kind?: string;
  time?: string;
  weekdays?: unknown;
  dayOfMonth?: unknown;
  cron?: string;
  timezone?: string;
}

export function isValidTimeZone(zone: string): boolean {
  return IANAZone.isValidZone(zone);
}

/** Checks a schedule from the API; problems name the field (`schedule.time: ...`). */
export function parseSchedule(input: ScheduleInput): { schedule?: Schedule; problems: string[] } {
  const problems: string[] = [];
  const kind = input.kind;
  if (kind === 'none' || kind === undefined) return { schedule: { kind: 'none' }, problems };
  if (!['daily', 'weekly', 'monthly', 'cron'].includes(kind)) {
    return {
      problems: [`schedule.kind must be one of none, daily, weekly, monthly, cron (got '${kind}')`],
    };
  }
  const out: Schedule = { kind: kind as ScheduleKind };
  if (!input.timezone) {
    problems.push('schedule.timezone is required: an IANA time zone such as Europe/Berlin');
  } else if (!isValidTimeZone(input.timezone)) {
    problems.push(
      `schedule.timezone: '${input.timezone}' is not an IANA time zone (such as Europe/Berlin or UTC)`,
    );
  } else out.timezone = input.timezone;

  if (kind === 'cron') {
    const expr = (input.cron ?? '').trim().replace(/\s+/g, ' ');
    const problem = checkCron(expr);
    if (problem) problems.push(`schedule.cron: ${problem}`);
    else out.cron = expr;
  } else {
    const time = input.time ?? '';
    if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(time)) {
      problems.push(`schedule.time must be HH:MM from 00:00 to 23:59 (got '${time}')`);
    } else out.time = time;
  }
  if (kind === 'weekly') {
    const days = input.weekdays;
    if (!Array.isArray(days) || days.length === 0) {
      problems.push(`schedule.weekdays must list at least one of ${WEEKDAYS.join(', ')}`);
    } else {
      const bad = days.filter((d) => !WEEKDAYS.includes(String(d).toLowerCase() as Weekday));
      if (bad.length > 0) {
        problems.push(
          `schedule.weekdays: ${bad.map((b) => `'${String(b)}'`).join(', ')} not one of ${WEEKDAYS.join(', ')}`,
        );
      } else {
        const set = new Set(days.map((d) => String(d).toLowerCase()));
        out.weekdays = WEEKDAYS.filter((d) => set.has(d));
      }
    }
  }
  if (kind === 'monthly') {
    const d = input.dayOfMonth;
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 1 || d > 31) {
      problems.push(`schedule.dayOfMonth must be a whole number from 1 to 31 (got '${String(d)}')`);
    } else out.dayOfMonth = d;
  }
  return problems.length > 0 ? { problems } : { schedule: out, problems };
}

function checkCron(expr: string): string | undefined {
  if (expr === '') return 'is required when kind is cron';
  if (expr.split(' ').length !== 5) {
    return `'${expr}' must have five fields: minute hour day-of-month month day-of-week`;
  }
  try {
    const parsed = CronExpressionParser.parse(expr, { tz: 'UTC' });
    parsed.next();
  } catch (e) {
    return `'${expr}' is not a valid cron expression: ${(e as Error).message}`;
  }
  return undefined;
}

/** The next `count` slots strictly after `after`, earliest first. */
export function nextRuns(schedule: Schedule, after: Date, count: number): Date[] {
  const plan = compile(schedule);
  if (!plan) return [];
  const out: Date[] = [];
  const afterMs = after.getTime();
  // Start one local day early: a slot of the previous local date can still lie ahead (offsets).
  let day = plan.dates.nextOnOrAfter(localDate(afterMs - DAY_MS, plan.zone));
  for (let guard = 0; day && out.length < count && guard < MAX_DAYS; guard++) {
    for (const slot of plan.slotsOn(day)) {
      if (slot > afterMs && (out.length === 0 || slot > out[out.length - 1]!.getTime())) {
        out.push(new Date(slot));
        if (out.length >= count) break;
      }
    }
    day = plan.dates.nextOnOrAfter(addDays(day, 1));
  }
  return out;
}

/** The latest slot in (from, to], or undefined: what a catch-up or a timer tick runs. */
export function latestSlotBetween(schedule: Schedule, from: Date, to: Date): Date | undefined {
  const plan = compile(schedule);
  if (!plan || to <= from) return undefined;
  const fromMs = from.getTime();
  const toMs = to.getTime();
  let day: LocalDate | undefined = plan.dates.prevOnOrBefore(localDate(toMs + DAY_MS, plan.zone));
  const stop = localDate(fromMs - DAY_MS, plan.zone);
  for (let guard = 0; day && compareDates(day, stop) >= 0 && guard < MAX_DAYS; guard++) {
    const slots = plan.slotsOn(day).filter((s) => s > fromMs && s <= toMs);
    if (slots.length > 0) return new Date(Math.max(...slots));
    day = plan.dates.prevOnOrBefore(addDays(day, -1));
  }
  return undefined;
}

// ---- internals: dates come from a day rule, times of day are resolved in the zone ----

const DAY_MS = 86_400_000;
/** Search bound: a schedule with no slot within about five years is treated as never firing. */
const MAX_DAYS = 5 * 366;

interface LocalDate {
  y: number;
  m: number;
  d: number;
}

interface DateRule {
  nextOnOrAfter(d: LocalDate): LocalDate | undefined;
  prevOnOrBefore(d: LocalDate): LocalDate | undefined;
}

interface Plan {
  zone: string;
  dates: DateRule;
  slotsOn(d: LocalDate): number[];
}

function compile(s: Schedule): Plan | undefined {
  if (s.kind === 'none' || !s.timezone) return undefined;
  const zone = s.timezone;
  let dates: DateRule;
  let times: Array<[number, number]>;
  switch (s.kind) {
    case 'daily':
    case 'weekly':
    case 'monthly': {
      const [h, m] = (s.time ?? '00:00').split(':').map(Number) as [number, number];
      times = [[h, m]];
      if (s.kind === 'daily') dates = cronDates('* * *');
      else if (s.kind === 'weekly') {
        const dows = (s.weekdays ?? []).map((w) => (WEEKDAYS.indexOf(w) + 1) % 7);
        dates = cronDates(`* * ${dows.join(',')}`);
      } else dates = monthlyDates(s.dayOfMonth ?? 1);
      break;
    }
    case 'cron': {
      const [, , dom, mon, dow] = (s.cron ?? '').split(' ');
      const fields = CronExpressionParser.parse(s.cron ?? '', { tz: 'UTC' }).fields;
      times = [];
      for (const hh of fields.hour.values as number[])
        for (const mm of fields.minute.values as number[]) times.push([hh, mm]);
      dates = cronDates(`${dom} ${mon} ${dow}`);
      break;
    }
  }
  times.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return {
    zone,
    dates,
    slotsOn: (d) => {
      const out = new Set<number>();
      for (const [h, m] of times) out.add(resolveWallTime(d, h, m, zone));
      return [...out].sort((a, b) => a - b);
    },
  };
}

/**
 * A local wall time to an instant. Clocks going back: the first occurrence (the earlier
 * instant). Clocks going forward over it: shifted by the gap, so 02:30 in a skipped hour runs at
 * 03:30 (as cron-parser, and BullMQ with it, compute it).
 */
export function resolveWallTime(d: LocalDate, hour: number, minute: number, zone: string): number {
  const wall = Date.UTC(d.y, d.m - 1, d.d, hour, minute);
  const z = IANAZone.create(zone);
  const before = z.offset(wall - DAY_MS);
  const after = z.offset(wall + DAY_MS);
  const candidates = [wall - before * 60_000, wall - after * 60_000].filter(
    (t) => wall - z.offset(t) * 60_000 === t,
  );
  if (candidates.length > 0) return Math.min(...candidates);
  return wall - before * 60_000;
}

/** Dates matching the day-of-month, month and day-of-week fields of a cron line (UTC, no DST). */
function cronDates(dateFields: string): DateRule {
  const step = (d: LocalDate, dir: 1 | -1): LocalDate | undefined => {
    const start = Date.UTC(d.y, d.m - 1, d.d);
    const it = CronExpressionParser.parse(`0 0 ${dateFields}`, {
      tz: 'UTC',
      currentDate: new Date(dir === 1 ? start - 1 : start + 1),
    });
    try {
      const t = dir === 1 ? it.next() : it.prev();
      const dt = new Date(t.getTime());
      return { y: dt.getUTCFullYear(), m: dt.getUTCMonth() + 1, d: dt.getUTCDate() };
    } catch {
      return undefined;
    }
  };
  return { nextOnOrAfter: (d) => step(d, 1), prevOnOrBefore: (d) => step(d, -1) };
}

function monthlyDates(dayOfMonth: number): DateRule {
  const dayIn = (y: number, m: number) => Math.min(dayOfMonth, daysInMonth(y, m));
  return {
    nextOnOrAfter: (d) => {
      const here = dayIn(d.y, d.m);
      if (d.d <= here) return { y: d.y, m: d.m, d: here };
      const y = d.m === 12 ? d.y + 1 : d.y;
      const m = d.m === 12 ? 1 : d.m + 1;
      return { y, m, d: dayIn(y, m) };
    },
    prevOnOrBefore: (d) => {
      const here = dayIn(d.y, d.m);
      if (d.d >= here) return { y: d.y, m: d.m, d: here };
      const y = d.m === 1 ? d.y - 1 : d.y;
      const m = d.m === 1 ? 12 : d.m - 1;
      return { y, m, d: dayIn(y, m) };
    },
  };
}

function daysInMonth(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

function localDate(ms: number, zone: string): LocalDate {
  const dt = DateTime.fromMillis(ms, { zone });
  return { y: dt.year, m: dt.month, d: dt.day };
}

function addDays(d: LocalDate, n: number): LocalDate {
  const t = new Date(Date.UTC(d.y, d.m - 1, d.d + n));
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
}

function compareDates(a: LocalDate, b: LocalDate): number {
  return a.y - b.y || a.m - b.m || a.d - b.d;
}

/** An instant as ISO 8601 with the zone's offset ('2026-03-29T03:30:00.000+02:00'). */
export function toZonedIso(t: Date, zone: string | undefined): string {
  return DateTime.fromJSDate(t, { zone: zone ?? 'UTC' }).toISO() ?? t.toISOString();
}
