import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { ConnectorTrafficEvent } from '../connectors/request-observer.js';
import { AccountEntity } from '../accounts/account.entity.js';
import { RunEventEntity } from '../tasks/entities/run-error.entity.js';
import { RunEntity } from '../tasks/entities/run.entity.js';
import { TaskEntity } from '../tasks/entities/task.entity.js';
import { VersionFileEntity } from '../versions/entities/version-file.entity.js';
import { VersionEntity } from '../versions/entities/version.entity.js';

/**
 * The engine's Prometheus metrics, in a registry of its own (not prom-client's global one: a
 * test process runs several apps). Run counters follow the run events; queue depth and ledger
 * size are read from the database when Prometheus scrapes; process metrics are prom-client's.
 */
export class MetricsService {
  readonly registry = new Registry();
  private readonly runs: Counter<'kind' | 'outcome'>;
  private readonly runDuration: Histogram<'kind' | 'outcome'>;
  private readonly files: Counter<'kind' | 'result'>;
  private readonly bytes: Counter<'kind'>;
  private readonly faults: Counter<'kind' | 'source' | 'target' | 'level' | 'class'>;
  private readonly schedulerLag: Histogram;
  private readonly cloudRequests: Counter<'cloud' | 'status'>;
  private readonly cloudRetries: Counter<'cloud' | 'reason'>;

  constructor(private readonly dataSource: DataSource) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'cbe_' });
    this.runs = new Counter({
      name: 'cbe_runs_total',
      help: 'Runs finished, by kind (backup, restore, prune, ...) and outcome',
      labelNames: ['kind', 'outcome'],
      registers,
    });
    this.runDuration = new Histogram({
      name: 'cbe_run_duration_seconds',
      help: 'Wall time of finished runs, from start to finish',
      labelNames: ['kind', 'outcome'],
      buckets: [1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600],
      registers,
    });
    this.files = new Counter({
      name: 'cbe_files_total',
      help: 'Files handled by finished runs: copied, unchanged, filtered out or failed',
      labelNames: ['kind', 'result'],
      registers,
    });
    this.bytes = new Counter({
      name: 'cbe_bytes_copied_total',
      help: 'Bytes copied by finished runs',
      labelNames: ['kind'],
      registers,
    });
    this.faults = new Counter({
      name: 'cbe_run_faults_total',
      help: 'Retried faults (level=retry) and failed files (level=error) of finished runs, by the connectors of the task and the error class',
      labelNames: ['kind', 'source', 'target', 'level', 'class'],
      registers,
    });
    this.schedulerLag = new Histogram({
      name: 'cbe_scheduler_lag_seconds',
      help: 'How late scheduled runs started after their slot',
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 1800],
      registers,
    });
    this.cloudRequests = new Counter({
      name: 'cbe_cloud_requests_total',
      help: 'HTTP requests connectors sent, by connector kind (cloud) and the status answered (error: no answer)',
      labelNames: ['cloud', 'status'],
      registers,
    });
    this.cloudRetries = new Counter({
      name: 'cbe_cloud_retries_total',
      help: 'Calls a connector retried, by connector kind (cloud) and reason (RATE_LIMITED, TRANSIENT, ...)',
      labelNames: ['cloud', 'reason'],
      registers,
    });
    const ds = this.dataSource;
    new Gauge({
      name: 'cbe_queue_depth',
      help: 'Runs waiting in the queue (status queued)',
      registers,
      async collect() {
        this.set(await ds.getRepository(RunEntity).countBy({ status: 'queued' }));
      },
    });
    new Gauge({
      name: 'cbe_runs_running',
      help: 'Runs executing now',
      registers,
      async collect() {
        this.set(await ds.getRepository(RunEntity).countBy({ status: 'running' }));
      },
    });
    new Gauge({
      name: 'cbe_ledger_records',
      help: 'Rows of the version ledger (one per stored copy of a path)',
      registers,
      async collect() {
        this.set(await ds.getRepository(VersionFileEntity).count());
      },
    });
    new Gauge({
      name: 'cbe_ledger_versions',
      help: 'Versions in the ledger, all tasks',
      registers,
      async collect() {
        this.set(await ds.getRepository(VersionEntity).count());
      },
    });
  }

  /** A request or a retry of a connector, as src/connectors/request-observer.ts tells them. */
  connectorTraffic(e: ConnectorTrafficEvent): void {
    if (e.type === 'request') this.cloudRequests.inc({ cloud: e.cloud, status: String(e.status) });
    else this.cloudRetries.inc({ cloud: e.cloud, reason: e.reason });
  }

  runStarted(run: RunEntity): void {
    if (run.trigger === 'schedule' && run.scheduledFor && run.startedAt) {
      const lag = (run.startedAt.getTime() - run.scheduledFor.getTime()) / 1000;
      if (lag >= 0) this.schedulerLag.observe(lag);
    }
  }

  async runFinished(run: RunEntity): Promise<void> {
    const kind = run.kind;
    this.runs.inc({ kind, outcome: run.status });
    if (run.startedAt && run.finishedAt) {
      this.runDuration.observe(
        { kind, outcome: run.status },
        (run.finishedAt.getTime() - run.startedAt.getTime()) / 1000,
      );
    }
    this.bytes.inc({ kind }, run.bytesCopied);
    this.files.inc({ kind, result: 'copied' }, run.filesCopied);
    this.files.inc({ kind, result: 'unchanged' }, run.filesUnchanged);
    this.files.inc({ kind, result: 'filtered' }, run.filesFiltered);
    this.files.inc({ kind, result: 'failed' }, run.filesFailed);
    if (run.retries === 0 && run.filesFailed === 0) return;
    const { source, target } = await this.connectorsOf(run.taskId);
    const rows = await this.dataSource
      .getRepository(RunEventEntity)
      .createQueryBuilder('e')
      .select('e.level', 'level')
      .addSelect('e.code', 'code')
      .addSelect('COUNT(*)', 'n')
      .where('e.runId = :id', { id: run.id })
      .andWhere('e.level IN (:...levels)', { levels: ['retry', 'error'] })
      .groupBy('e.level')
      .addGroupBy('e.code')
      .getRawMany<{ level: string; code: string | null; n: string | number }>();
    for (const r of rows) {
      this.faults.inc(
        { kind, source, target, level: r.level, class: r.code ?? 'unknown' },
        Number(r.n),
      );
    }
  }

  private async connectorsOf(taskId: string): Promise<{ source: string; target: string }> {
    const task = await this.dataSource.getRepository(TaskEntity).findOneBy({ id: taskId });
    const kindOf = async (id: string | undefined) =>
      id
        ? ((await this.dataSource.getRepository(AccountEntity).findOneBy({ id }))?.kind ??
          'unknown')
        : 'unknown';
    return {
      source: await kindOf(task?.sourceAccountId),
      target: await kindOf(task?.targetAccountId),
    };
  }
}
