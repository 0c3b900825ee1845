import { extensionOf } from '../../connectors/path.js';
import type { FilterMode } from '../../tasks/entities/task.entity.js';

/** Parses "jpg, .HEIC mov" or ['jpg', '.heic'] into ['jpg', 'heic', 'mov']; reports bad items. */
export function parseExtensions(input: string | readonly string[]): {
  extensions: string[];
  problems: string[];
} {
  const items = typeof input === 'string' ? input.split(/[\s,;]+/) : [...input];
  const problems: string[] = [];
  const out = new Set<string>();
  for (const [i, raw] of items.entries()) {
    if (typeof raw !== 'string') {
      problems.push(`item ${i} is not a string`);
      continue;
    }
    const ext = raw
      .trim()
      .replace(/^\*?\./, '')
      .toLowerCase();
    if (ext === '') continue;
    if (!/^[\p{L}\p{N}_+-]{1,20}$/u.test(ext)) {
      problems.push(`'${raw}' is not a file extension (letters and digits, like jpg or heic)`);
      continue;
    }
    out.add(ext);
  }
  return { extensions: [...out], problems };
}

/** Case-insensitive extension filter: everything, only the listed extensions, or all but them. */
export class ExtensionFilter {
  private readonly set: ReadonlySet<string>;

  constructor(
    private readonly mode: FilterMode,
    extensions: readonly string[],
  ) {
    this.set = new Set(extensions.map((e) => e.toLowerCase()));
  }

  accepts(path: string): boolean {
    switch (this.mode) {
      case 'all':
        return true;
      case 'include':
        return this.set.has(extensionOf(path));
      case 'exclude':
        return !this.set.has(extensionOf(path));
    }
  }
}
