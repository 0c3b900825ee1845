import { buildChaos, formatReport, runChaos, type ChaosReport } from '../chaos/chaos.js';
import { FAULT_KINDS } from '../chaos/fault-plan.js';

/**
 * The short fault suite: `npm run chaos` with 120 files and one SIGKILL, with fault rates high
 * enough that every kind fires on most seeds. The full one is `npm run chaos`.
 */
describe('a backup between emulated clouds under random faults and a SIGKILL', () => {
  let report: ChaosReport;

  beforeAll(async () => {
    await buildChaos();
    report = await runChaos({
      files: 120,
      kills: 1,
      seed: 424_242,
      source: 'dropbox',
      target: 'google-drive',
      plan: {
        rateLimit429: 0.02,
        unavailable503: 0.02,
        serverError500: 0.02,
        cutDownload: 0.06,
        truncatedBody: 0.05,
        cutUpload: 0.05,
        tokenExpiry: 0.006,
      },
    });
    process.stdout.write(`${formatReport(report)}\n`);
  }, 170_000);

  it('should leave the last complete version equal to the source, on the target and in a restore, when faults and a SIGKILL hit the run', () => {
    expect(report.problems).toEqual([]);
    expect(report.kills).toBe(1);
    expect(report.runs.filter((r) => r.killed)).toHaveLength(1);
    expect(report.runs[report.runs.length - 1]!.status).toBe('completed');
    expect(report.restoredFiles).toBe(120);
    // Versions: the interrupted run left a partial one, only the last run's is complete.
    expect(report.versions.filter((v) => v.status === 'complete').map((v) => v.fileCount)).toEqual([
      120,
    ]);
  });

  it('should have injected faults of several kinds and survived them, when the plan is seeded', () => {
    const total = FAULT_KINDS.reduce((n, k) => n + report.injected[k], 0);
    expect(total).toBeGreaterThan(20);
    const kindsSeen = FAULT_KINDS.filter((k) => report.injected[k] > 0);
    expect(kindsSeen.length).toBeGreaterThanOrEqual(5);
    expect(report.survived).toEqual(report.injected);
  });

  it('should name the status faults and upload cuts the engine retried in the run log', () => {
    // 429/503/500 and cut uploads reach the engine's pacer: each is a `level=retry` event. Cut or
    // short download bodies are resumed inside the connector with a Range request instead.
    for (const k of ['rateLimit429', 'unavailable503', 'serverError500'] as const) {
      expect(report.namedInRunLog[k]).toBeGreaterThan(0);
    }
    const statusFaults =
      report.injected.rateLimit429 +
      report.injected.unavailable503 +
      report.injected.serverError500;
    const namedStatus =
      report.namedInRunLog.rateLimit429 +
      report.namedInRunLog.unavailable503 +
      report.namedInRunLog.serverError500;
    expect(namedStatus).toBeGreaterThanOrEqual(Math.floor(statusFaults * 0.9));
    expect(report.namedInRunLog.other).toBe(0);
    if (report.injected.cutDownload + report.injected.truncatedBody > 0) {
      expect(
        report.connectorRangeResumes +
          report.namedInRunLog.cutDownload +
          report.namedInRunLog.truncatedBody,
      ).toBeGreaterThan(0);
    }
  });
});
