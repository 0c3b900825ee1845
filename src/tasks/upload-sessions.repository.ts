import { randomUUID } from 'node:crypto';
import type { SecretVault } from '../accounts/secret-vault.js';
import type { Database } from '../persistence/database.js';
import { UploadSessionEntity } from './entities/upload-session.entity.js';

/** A large file's upload in flight, as the backup executor sees it (the locator in the clear). */
export interface UploadSessionRecord {
  taskId: string;
  sourcePath: string;
  targetAccountId: string;
  targetPath: string;
  size: number;
  sourceModifiedAt: Date | null;
  /** The provider's session handle: bearer-like, never logged. */
  locator: string;
  confirmedBytes: number;
}

/** What the backup executor needs of the upload sessions table. */
export interface UploadSessionStore {
  /** The task's sessions left by earlier attempts (read once per run: few rows). */
  listForTask(taskId: string): Promise<UploadSessionRecord[]>;
  /** Records a session just opened (replacing an older one of the same file). */
  open(rec: UploadSessionRecord, at: Date): Promise<void>;
  /** Writes down the bytes the target confirmed. */
  confirm(taskId: string, sourcePath: string, confirmedBytes: number, at: Date): Promise<void>;
  /** The file is stored (or will never resume): forget its session. */
  remove(taskId: string, sourcePath: string): Promise<void>;
}

/**
 * The upload_sessions table. Locators are sealed with the secret vault (AES-256-GCM) before they
 * reach the database: an upload URL lets whoever holds it write into the user's cloud.
 */
export class UploadSessionsRepository implements UploadSessionStore {
  constructor(
    private readonly db: Database,
    private readonly vault: Pick<SecretVault, 'seal' | 'open'>,
  ) {}

  private get repo() {
    return this.db.dataSource.getRepository(UploadSessionEntity);
  }

  async listForTask(taskId: string): Promise<UploadSessionRecord[]> {
    const rows = await this.repo.findBy({ taskId });
    const out: UploadSessionRecord[] = [];
    for (const r of rows) {
      let locator: string | undefined;
      try {
        locator = this.vault.open(r.sealedLocator).locator;
      } catch {
        locator = undefined; // sealed with another key: cannot be continued, a fresh upload follows
      }
      if (locator === undefined) continue;
      out.push({
        taskId: r.taskId,
        sourcePath: r.sourcePath,
        targetAccountId: r.targetAccountId,
        targetPath: r.targetPath,
        size: r.size,
        sourceModifiedAt: r.sourceModifiedAt,
        locator,
        confirmedBytes: r.confirmedBytes,
      });
    }
    return out;
  }

  async open(rec: UploadSessionRecord, at: Date): Promise<void> {
    await this.db.transaction(async (em) => {
      await em.delete(UploadSessionEntity, { taskId: rec.taskId, sourcePath: rec.sourcePath });
      await em.insert(UploadSessionEntity, {
        id: randomUUID(),
        taskId: rec.taskId,
        sourcePath: rec.sourcePath,
        targetAccountId: rec.targetAccountId,
        targetPath: rec.targetPath,
        size: rec.size,
        sourceModifiedAt: rec.sourceModifiedAt,
        sealedLocator: this.vault.seal({ locator: rec.locator }),
        confirmedBytes: rec.confirmedBytes,
        updatedAt: at,
      });
    });
  }

  async confirm(
    taskId: string,
    sourcePath: string,
    confirmedBytes: number,
    at: Date,
  ): Promise<void> {
    await this.repo.update({ taskId, sourcePath }, { confirmedBytes, updatedAt: at });
  }

  async remove(taskId: string, sourcePath: string): Promise<void> {
    await this.repo.delete({ taskId, sourcePath });
  }
}
