import type { Database } from '../persistence/database.js';
import { SettingEntity } from './setting.entity.js';

/** Key -> JSON value settings; intention-revealing access lives in the services that own a key. */
export class SettingsRepository {
  constructor(private readonly db: Database) {}

  async get<T>(key: string): Promise<T | undefined> {
    const row = await this.db.dataSource.getRepository(SettingEntity).findOneBy({ key });
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  async put(key: string, value: unknown, at: Date): Promise<void> {
    await this.db.write((em) =>
      em.save(SettingEntity, { key, value: JSON.stringify(value), updatedAt: at }),
    );
  }

  async delete(key: string): Promise<void> {
    await this.db.write((em) => em.delete(SettingEntity, { key }));
  }
}
