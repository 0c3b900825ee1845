import { createInterface } from 'node:readline';
import { NotFoundAppError, ValidationAppError } from '../common/errors/app-errors.js';
import type { Connector } from '../connectors/connector.js';
import { NotFoundError } from '../connectors/connector.errors.js';
import { joinPath, normalizePath } from '../connectors/path.js';
import { MANIFEST_FORMAT, type ManifestHeader, type ManifestLine } from '../versions/manifest.js';
import { MANIFEST_FOLDER, type VersionsService } from '../versions/versions.service.js';
import type { ConnectorProvider } from '../runs/connector-provider.js';
import type { TaskEntity } from './entities/task.entity.js';
import type { TasksService } from './tasks.service.js';

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
    private readonly tasks: Pick<TasksService, 'create'>,
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
      const first = await this.readHeader(target, joinPath(folder, names[0]!));
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
        for (const name of names) {
          const path = joinPath(folder, name);
          const { header, lines } = await this.openManifest(target, path);
          yield { header, manifestPath: path, lines };
        }
      }.call(this);
      const result = await this.versions.rebuildFromManifests(task.id, manifests);
      return { task, ...result };
    } finally {
      await target.close?.().catch(() => undefined);
    }
  }

  private async readHeader(target: Connector, path: string): Promise<ManifestHeader> {
    const { header, lines } = await this.openManifest(target, path);
    for await (const _ of lines) break; // closes the stream
    return header;
  }

  private async openManifest(
    target: Connector,
    path: string,
  ): Promise<{ header: ManifestHeader; lines: AsyncGenerator<ManifestLine> }> {
    const stream = await target.read(path);
    const rl = createInterface({ input: stream, crlfDelay: Infinity });
    const it = rl[Symbol.asyncIterator]();
    const first = await it.next();
    let header: ManifestHeader;
    try {
      header = JSON.parse(String(first.value ?? '')) as ManifestHeader;
    } catch {
      rl.close();
      stream.destroy();
      throw new ValidationAppError([`manifest '${path}' does not start with a JSON header`]);
    }
    if (header.format !== MANIFEST_FORMAT || typeof header.seq !== 'number') {
      rl.close();
      stream.destroy();
      throw new ValidationAppError([`manifest '${path}' is not a ${MANIFEST_FORMAT} manifest`]);
    }
    async function* lines(): AsyncGenerator<ManifestLine> {
      let n = 1;
      try {
        for (let r = await it.next(); !r.done; r = await it.next()) {
          n++;
          if (r.value.trim() === '') continue;
          let line: ManifestLine;
          try {
            line = JSON.parse(r.value) as ManifestLine;
          } catch {
            throw new ValidationAppError([`manifest '${path}' line ${n} is not valid JSON`]);
          }
          if (
            typeof line.path !== 'string' ||
            typeof line.storedPath !== 'string' ||
            typeof line.sha256 !== 'string'
          ) {
            throw new ValidationAppError([
              `manifest '${path}' line ${n} lacks path, storedPath or sha256`,
            ]);
          }
          yield line;
        }
      } finally {
        rl.close();
        stream.destroy();
      }
    }
    return { header, lines: lines() };
  }
}
