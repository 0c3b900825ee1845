import { createInterface } from 'node:readline';
import { NotFoundAppError, ValidationAppError } from '../common/errors/app-errors.js';
import type { Connector } from '../connectors/connector.js';
import { NotFoundError } from '../connectors/connector.errors.js';
import { joinPath, normalizePath } from '../connectors/path.js';
import {
  checkManifestHeader,
  checkManifestLine,
  type ManifestHeader,
  type ManifestLine,
} from '../versions/manifest.js';
import { MANIFEST_FOLDER, type VersionsService } from '../versions/versions.service.js';
import type { ConnectorProvider } from '../runs/connector-provider.js';
import type { TaskEntity } from '../tasks/entities/task.entity.js';
import type { TasksService } from '../tasks/tasks.service.js';

/** Problems reported at most per refused import: enough to fix a file, never a flood. */
const MAX_PROBLEMS = 20;

export interface ImportRequest {
  targetAccountId: string;
  targetPath?: string;
  sourceAccountId: string;
  sourcePath?: string;
  name?: string;
}

/**
 * Rebuilds a task and its version ledger from the manifests a backup left on its target, so a
 * fresh install can browse and restore a backup made by a lost one.
 */
export class LedgerImportService {
  constructor(
    private readonly tasks: Pick<TasksService, 'create' | 'remove'>,
    private readonly versions: VersionsService,
    private readonly connectors: ConnectorProvider & { exists(id: string): Promise<boolean> },
  ) {}

  async importLedger(
    req: ImportRequest,
    ownerId: string | null = null,
  ): Promise<{ task: TaskEntity; versions: number; records: number }> {
    const problems: string[] = [];
    let targetPath = '';
    let sourcePath = '';
    try {
      targetPath = normalizePath(req.targetPath ?? '');
      sourcePath = normalizePath(req.sourcePath ?? '');
    } catch (e) {
      problems.push(`path: ${(e as Error).message}`);
    }
    for (const key of ['targetAccountId', 'sourceAccountId'] as const) {
      if (!(await this.connectors.exists(req[key])))
        problems.push(`${key} '${req[key]}' does not name an account`);
    }
    if (problems.length > 0) throw new ValidationAppError(problems);
    const target = await this.connectors.open(req.targetAccountId, {});
    try {
      const folder = joinPath(targetPath, MANIFEST_FOLDER);
      const names: string[] = [];
      try {
        for await (const e of target.list(folder)) {
          if (e.kind === 'file' && /^v\d{6,}\.jsonl$/.test(e.name)) names.push(e.name);
        }
      } catch (e) {
        if (e instanceof NotFoundError) throw NotFoundAppError.of('manifest folder', `${folder}`);
        throw e;
      }
      if (names.length === 0) throw new NotFoundAppError(`no manifests in '${folder}'`);
      names.sort();
      const paths = names.map((n) => joinPath(folder, n));
      // Pass 1 reads every line and writes nothing: a bad line anywhere refuses the whole import.
      const first = await this.validateAll(target, paths);
      // Imported tasks stay paused until the user has looked at them.
      const task = await this.tasks.create(
        {
          name: req.name ?? `${first.taskName} (imported)`,
          sourceAccountId: req.sourceAccountId,
          sourcePath,
          targetAccountId: req.targetAccountId,
          targetPath,
          enabled: false,
        },
        ownerId,
      );
      const manifests = async function* (this: LedgerImportService) {
        for (const path of paths) {
          const { header, lines } = await this.openManifest(target, path);
          yield { header, manifestPath: path, lines };
        }
      }.call(this);
      try {
        // Pass 2 writes the versions and records in one transaction (checking each line again:
        // the target may have changed in between).
        const result = await this.versions.rebuildFromManifests(task.id, manifests);
        return { task, ...result };
      } catch (e) {
        await this.tasks.remove(task.id).catch(() => undefined);
        throw e;
      }
    } finally {
      await target.close?.().catch(() => undefined);
    }
  }

  /**
   * Reads every manifest line by line and checks each (and the order of the versions), writing
   * nothing. Collects up to MAX_PROBLEMS problems, each naming the manifest and line.
   */
  private async validateAll(target: Connector, paths: string[]): Promise<ManifestHeader> {
    const problems: string[] = [];
    let first: ManifestHeader | undefined;
    let prevSeq = 0;
    for (const path of paths) {
      if (problems.length >= MAX_PROBLEMS) break;
      let opened: Awaited<ReturnType<LedgerImportService['openManifest']>>;
      try {
        opened = await this.openManifest(target, path, problems);
      } catch (e) {
        if (!(e instanceof ValidationAppError)) throw e;
        problems.push(...e.problems);
        continue;
      }
      const { header, lines } = opened;
      first ??= header;
      if (header.seq <= prevSeq)
        problems.push(`manifest '${path}': version ${header.seq} is out of order or repeated`);
      prevSeq = Math.max(prevSeq, header.seq);
      const seen = new Set<string>();
      for await (const line of lines) {
        if (seen.has(line.path))
          problems.push(`manifest '${path}': path '${line.path}' is listed twice`);
        seen.add(line.path);
        if (problems.length >= MAX_PROBLEMS) break;
      }
    }
    if (problems.length > 0) throw new ValidationAppError(problems.slice(0, MAX_PROBLEMS));
    return first!;
  }

  /**
   * Opens a manifest and checks its header. The lines are checked as they are read: with
   * `problems`, a bad line is added there and skipped (pass 1); without, it throws (pass 2).
   */
  private async openManifest(
    target: Connector,
    path: string,
    problems?: string[],
  ): Promise<{ header: ManifestHeader; lines: AsyncGenerator<ManifestLine> }> {
    const stream = await target.read(path);
    const rl = createInterface({ input: stream, crlfDelay: Infinity });
    const it = rl[Symbol.asyncIterator]();
    const close = () => {
      rl.close();
      stream.destroy();
    };
    const first = await it.next();
    let raw: unknown;
    try {
      raw = JSON.parse(String(first.value ?? ''));
    } catch {
      close();
      throw new ValidationAppError([`manifest '${path}' does not start with a JSON header`]);
    }
    const checked = checkManifestHeader(raw);
    if (!checked.ok) {
      close();
      throw new ValidationAppError([`manifest '${path}' line 1 (header): ${checked.problem}`]);
    }
    const header = checked.value;
    const report = (problem: string) => {
      if (!problems) throw new ValidationAppError([problem]);
      problems.push(problem);
    };
    async function* lines(): AsyncGenerator<ManifestLine> {
      let n = 1;
      try {
        for (let r = await it.next(); !r.done; r = await it.next()) {
          n++;
          if (r.value.trim() === '') continue;
          let parsed: unknown;
          try {
            parsed = JSON.parse(r.value);
          } catch {
            report(`manifest '${path}' line ${n} is not valid JSON`);
            continue;
          }
          const line = checkManifestLine(parsed, header.seq);
          if (line.ok) yield line.value;
          else report(`manifest '${path}' line ${n}: ${line.problem}`);
        }
      } finally {
        close();
      }
    }
    return { header, lines: lines() };
  }
}
