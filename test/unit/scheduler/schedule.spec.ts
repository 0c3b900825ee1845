import {
  latestSlotBetween,
  nextRuns,
  parseSchedule,
  toZonedIso,
  type Schedule,
} from '../../../src/scheduler/schedule.js';

const iso = (ds: Date[], zone: string) => ds.map((d) => toZonedIso(d, zone));

describe('parseSchedule', () => {
  it('should accept a weekly schedule and order its weekdays when they are valid', () => {
    const sut = parseSchedule({
      kind: 'weekly',
      time: '07:05',
      weekdays: ['fri', 'MON'],
      timezone: 'Europe/Berlin',
    });
    expect(sut.problems).toEqual([]);
    expect(sut.schedule).toEqual({
      kind: 'weekly',
      time: '07:05',
      weekdays: ['mon', 'fri'],
      timezone: 'Europe/Berlin',
    });
  });

  it('should name each field and its problem when the input is invalid', () => {
    const sut = parseSchedule({
      kind: 'weekly',
      time: '24:00',
      weekdays: ['mon', 'funday'],
      timezone: 'Mars/Olympus',
    });
    expect(sut.schedule).toBeUndefined();
    expect(sut.problems).toEqual([
      "schedule.timezone: 'Mars/Olympus' is not an IANA time zone (such as Europe/Berlin or UTC)",
      "schedule.time must be HH:MM from 00:00 to 23:59 (got '24:00')",
      "schedule.weekdays: 'funday' not one of mon, tue, wed, thu, fri, sat, sun",
    ]);
  });

  it('should refuse a cron expression when it has the wrong field count or a bad value', () => {
    expect(parseSchedule({ kind: 'cron', cron: '* * * *', timezone: 'UTC' }).problems).toEqual([
      "schedule.cron: '* * * *' must have five fields: minute hour day-of-month month day-of-week",
    ]);
    const bad = parseSchedule({ kind: 'cron', cron: '61 2 * * *', timezone: 'UTC' }).problems;
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatch(/^schedule\.cron: '61 2 \* \* \*' is not a valid cron expression: .*61/);
  });

  it('should refuse a monthly day when it is outside 1..31', () => {
    expect(
      parseSchedule({ kind: 'monthly', time: '01:00', dayOfMonth: 32, timezone: 'UTC' }).problems,
    ).toEqual(["schedule.dayOfMonth must be a whole number from 1 to 31 (got '32')"]);
  });
});

describe('nextRuns', () => {
  it('should return daily slots in the zone with their offset when no DST change is near', () => {
    const s: Schedule = { kind: 'daily', time: '03:15', timezone: 'America/New_York' };
    expect(iso(nextRuns(s, new Date('2026-06-01T12:00:00Z'), 3), 'America/New_York')).toEqual([
      '2026-06-02T03:15:00.000-04:00',
      '2026-06-03T03:15:00.000-04:00',
      '2026-06-04T03:15:00.000-04:00',
    ]);
  });

  it('should run a skipped 02:30 once at 03:30 when Berlin springs forward', () => {
    const s: Schedule = { kind: 'daily', time: '02:30', timezone: 'Europe/Berlin' };
    expect(iso(nextRuns(s, new Date('2026-03-27T12:00:00Z'), 4), 'Europe/Berlin')).toEqual([
      '2026-03-28T02:30:00.000+01:00',
      '2026-03-29T03:30:00.000+02:00',
      '2026-03-30T02:30:00.000+02:00',
      '2026-03-31T02:30:00.000+02:00',
    ]);
  });

  it('should run a repeated 02:30 once at its first occurrence when Berlin falls back', () => {
    const s: Schedule = { kind: 'daily', time: '02:30', timezone: 'Europe/Berlin' };
    const runs = nextRuns(s, new Date('2026-10-24T12:00:00Z'), 3);
    expect(iso(runs, 'Europe/Berlin')).toEqual([
      '2026-10-25T02:30:00.000+02:00',
      '2026-10-26T02:30:00.000+01:00',
      '2026-10-27T02:30:00.000+01:00',
    ]);
    // Starting inside the repeated hour must not find the second 02:30 (+01:00) of that day.
    expect(iso(nextRuns(s, new Date('2026-10-25T01:15:00Z'), 1), 'Europe/Berlin')).toEqual([
      '2026-10-26T02:30:00.000+01:00',
    ]);
  });

  it('should handle New York DST changes for the 01:30 and 02:30 slots', () => {
    const fall: Schedule = { kind: 'daily', time: '01:30', timezone: 'America/New_York' };
    expect(iso(nextRuns(fall, new Date('2026-10-31T12:00:00Z'), 2), 'America/New_York')).toEqual([
      '2026-11-01T01:30:00.000-04:00',
      '2026-11-02T01:30:00.000-05:00',
    ]);
    const spring: Schedule = { kind: 'daily', time: '02:30', timezone: 'America/New_York' };
    expect(iso(nextRuns(spring, new Date('2026-03-07T12:00:00Z'), 2), 'America/New_York')).toEqual([
      '2026-03-08T03:30:00.000-04:00',
      '2026-03-09T02:30:00.000-04:00',
    ]);
  });

  it('should run day 31 on the last day of shorter months', () => {
    const s: Schedule = { kind: 'monthly', time: '09:00', dayOfMonth: 31, timezone: 'UTC' };
    expect(nextRuns(s, new Date('2026-01-01T00:00:00Z'), 5).map((d) => d.toISOString())).toEqual([
      '2026-01-31T09:00:00.000Z',
      '2026-02-28T09:00:00.000Z',
      '2026-03-31T09:00:00.000Z',
      '2026-04-30T09:00:00.000Z',
      '2026-05-31T09:00:00.000Z',
    ]);
  });

  it('should run day 30 on February 29 when the year is a leap year', () => {
    const s: Schedule = { kind: 'monthly', time: '09:00', dayOfMonth: 30, timezone: 'UTC' };
    expect(nextRuns(s, new Date('2028-01-15T00:00:00Z'), 3).map((d) => d.toISOString())).toEqual([
      '2028-01-30T09:00:00.000Z',
      '2028-02-29T09:00:00.000Z',
      '2028-03-30T09:00:00.000Z',
    ]);
  });

  it('should run only on the chosen weekdays when weekly', () => {
    const s: Schedule = {
      kind: 'weekly',
      time: '22:00',
      weekdays: ['mon', 'thu'],
      timezone: 'Europe/Berlin',
    };
    expect(iso(nextRuns(s, new Date('2026-11-22T00:00:00Z'), 3), 'Europe/Berlin')).toEqual([
      '2026-11-23T22:00:00.000+01:00',
      '2026-11-26T22:00:00.000+01:00',
      '2026-11-30T22:00:00.000+01:00',
    ]);
  });

  it('should run each cron wall time once when Berlin falls back', () => {
    const s: Schedule = { kind: 'cron', cron: '0 1-3 * * *', timezone: 'Europe/Berlin' };
    expect(iso(nextRuns(s, new Date('2026-10-24T20:00:00Z'), 4), 'Europe/Berlin')).toEqual([
      '2026-10-25T01:00:00.000+02:00',
      '2026-10-25T02:00:00.000+02:00',
      '2026-10-25T03:00:00.000+01:00',
      '2026-10-26T01:00:00.000+01:00',
    ]);
  });

  it('should not run a cron slot twice when the skipped hour shifts onto an existing one', () => {
    const s: Schedule = { kind: 'cron', cron: '0 2,3 * * *', timezone: 'Europe/Berlin' };
    expect(iso(nextRuns(s, new Date('2026-03-28T20:00:00Z'), 3), 'Europe/Berlin')).toEqual([
      '2026-03-29T03:00:00.000+02:00',
      '2026-03-30T02:00:00.000+02:00',
      '2026-03-30T03:00:00.000+02:00',
    ]);
  });

  it('should honour the last-day L of a cron expression', () => {
    const s: Schedule = { kind: 'cron', cron: '30 23 L * *', timezone: 'UTC' };
    expect(nextRuns(s, new Date('2027-02-01T00:00:00Z'), 2).map((d) => d.toISOString())).toEqual([
      '2027-02-28T23:30:00.000Z',
      '2027-03-31T23:30:00.000Z',
    ]);
  });

  it('should return nothing when the kind is none', () => {
    expect(nextRuns({ kind: 'none' }, new Date(), 5)).toEqual([]);
  });
});

describe('latestSlotBetween', () => {
  const s: Schedule = { kind: 'daily', time: '02:30', timezone: 'Europe/Berlin' };

  it('should find the latest slot of a range when several were missed', () => {
    const got = latestSlotBetween(
      s,
      new Date('2026-11-01T00:00:00Z'),
      new Date('2026-11-05T12:00:00Z'),
    );
    expect(got?.toISOString()).toBe('2026-11-05T01:30:00.000Z');
  });

  it('should agree with nextRuns on the day Berlin falls back', () => {
    // The first 02:30 (00:30Z) is the slot; from just after it until the end of the day, none.
    expect(
      latestSlotBetween(
        s,
        new Date('2026-10-25T00:00:00Z'),
        new Date('2026-10-25T12:00:00Z'),
      )?.toISOString(),
    ).toBe('2026-10-25T00:30:00.000Z');
    expect(
      latestSlotBetween(s, new Date('2026-10-25T00:30:00Z'), new Date('2026-10-25T23:00:00Z')),
    ).toBeUndefined();
  });

  it('should return undefined when the range holds no slot', () => {
    expect(
      latestSlotBetween(s, new Date('2026-11-05T01:31:00Z'), new Date('2026-11-05T12:00:00Z')),
    ).toBeUndefined();
  });
});
