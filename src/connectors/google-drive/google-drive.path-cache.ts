import type { drive_v3 } from 'googleapis/build/src/apis/drive/index.js';

/**
 * path -> Drive item, least recently used out first. Small on purpose: it saves the per-level
 * lookups of a tree walk, not the whole account.
 */
export class PathCache {
  private readonly map = new Map<string, drive_v3.Schema$File>();

  constructor(private readonly max: number) {}

  get(path: string): drive_v3.Schema$File | undefined {
    const v = this.map.get(path);
    if (v !== undefined) {
      this.map.delete(path);
      this.map.set(path, v);
    }
    return v;
  }

  set(path: string, f: drive_v3.Schema$File): void {
    this.map.delete(path);
    this.map.set(path, f);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }

  /** Forgets `path` and everything under it. */
  deletePrefix(path: string): void {
    for (const k of [...this.map.keys()])
      if (k === path || k.startsWith(`${path}/`)) this.map.delete(k);
  }

  clear(): void {
    this.map.clear();
  }
}
