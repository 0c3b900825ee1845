import { ValidationAppError } from '../common/errors/app-errors.js';
import type { Clock } from '../common/clock.js';
import { loadLocalRoots, type LocalRootGrant } from '../config/app-config.js';
import type { SettingsRepository } from '../notifications/settings.repository.js';
import type { LocalRootsStore } from './access-policy.js';

const KEY = 'security.localRoots';

/**
 * LOCAL_ROOTS as an admin sets them in the UI: once set, they replace the configuration's; a
 * reset returns to it. Entries have the LOCAL_ROOTS form (`/srv/{user}`, `alice=/home/alice`).
 */
export class LocalRootsSettings implements LocalRootsStore {
  constructor(
    private readonly settings: SettingsRepository,
    private readonly configured: LocalRootGrant[],
    private readonly clock: Clock,
  ) {}

  async get(): Promise<LocalRootGrant[] | undefined> {
    return this.settings.get<LocalRootGrant[]>(KEY);
  }

  async view(): Promise<{ roots: string[]; source: 'settings' | 'environment' }> {
    const stored = await this.get();
    return {
      roots: (stored ?? this.configured).map(format),
      source: stored ? 'settings' : 'environment',
    };
  }

  async update(roots: string[]): Promise<{ roots: string[]; source: 'settings' | 'environment' }> {
    const problems: string[] = [];
    const grants = roots.flatMap((r, i) => {
      const p: string[] = [];
      const g = loadLocalRoots(r.includes(',') ? '' : r, p);
      if (r.includes(',') || p.length > 0 || g.length === 0) {
        problems.push(
          `roots[${i}]: '${r.slice(0, 200)}' is not an absolute path (or user=/absolute/path)`,
        );
      }
      return g;
    });
    if (problems.length > 0) throw new ValidationAppError(problems);
    await this.settings.put(KEY, grants, this.clock.now());
    return this.view();
  }

  async reset(): Promise<{ roots: string[]; source: 'settings' | 'environment' }> {
    await this.settings.delete(KEY);
    return this.view();
  }
}

function format(g: LocalRootGrant): string {
  return g.user ? `${g.user}=${g.path}` : g.path;
}
