/**
 * The scenario matrix's data sets and pairs: what gets seeded (deterministic sizes and content),
 * which pairs exist, and how `--scale` shrinks them.
 */
import { MiB } from './bench-util.js';

export const SCENARIOS = ['small', 'photos', 'large', 'repeat', 'repeat-1pct', 'restore'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export type SideKind = 'local' | 'google-drive' | 'onedrive' | 'dropbox' | 'icloud-photos';
export const SIDE_KINDS: readonly SideKind[] = [
  'local',
  'google-drive',
  'onedrive',
  'dropbox',
  'icloud-photos',
];

export interface Pair {
  source: SideKind;
  target: SideKind;
}

/** Issue #10: local -> each cloud, each cloud -> local, and three cloud -> cloud pairs. */
export const ALL_PAIRS: readonly Pair[] = [
  { source: 'local', target: 'google-drive' },
  { source: 'local', target: 'onedrive' },
  { source: 'local', target: 'dropbox' },
  { source: 'google-drive', target: 'local' },
  { source: 'onedrive', target: 'local' },
  { source: 'dropbox', target: 'local' },
  { source: 'icloud-photos', target: 'local' },
  { source: 'icloud-photos', target: 'google-drive' },
  { source: 'dropbox', target: 'onedrive' },
  { source: 'google-drive', target: 'dropbox' },
];

export const pairName = (p: Pair): string => `${p.source} -> ${p.target}`;

export function parsePairs(text: string): Pair[] {
  if (text === 'all') return [...ALL_PAIRS];
  return text.split(',').map((s) => {
    const [source, target] = s.split(':') as [SideKind, SideKind];
    if (!SIDE_KINDS.includes(source) || !SIDE_KINDS.includes(target) || source === target)
      throw new Error(`--pair: '${s}' is not source:target of ${SIDE_KINDS.join(', ')}`);
    if (target === 'icloud-photos') throw new Error('iCloud Photos is a read-only source');
    return { source, target };
  });
}

export function parseScenarios(text: string): Scenario[] {
  if (text === 'all') return [...SCENARIOS];
  return text.split(',').map((s) => {
    if (!(SCENARIOS as readonly string[]).includes(s))
      throw new Error(`--scenario: '${s}' is not one of ${SCENARIOS.join(', ')}, all`);
    return s as Scenario;
  });
}

export interface SeedFile {
  /** Relative to the data set's folder. */
  rel: string;
  size: number;
  seed: number;
}

export interface DataSet {
  name: 'small' | 'photos' | 'large';
  folder: string;
  files: SeedFile[];
  bytes: number;
  /** For iCloud Photos, whose library is generated: item count and size range. */
  icloud: { librarySize: number; minFileSize: number; maxFileSize: number };
}

function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

function build(
  name: DataSet['name'],
  count: number,
  minSize: number,
  maxSize: number,
  perFolder: number,
  ext: string,
): DataSet {
  const rnd = prng(count * 7919 + minSize);
  const files: SeedFile[] = [];
  for (let i = 0; i < count; i++) {
    const size = Math.round(minSize + rnd() * (maxSize - minSize));
    const dir = `d${String(Math.floor(i / perFolder)).padStart(3, '0')}`;
    files.push({ rel: `${dir}/f${String(i).padStart(5, '0')}.${ext}`, size, seed: 1000 + i });
  }
  return {
    name,
    folder: `bench/${name}`,
    files,
    bytes: files.reduce((n, f) => n + f.size, 0),
    icloud: { librarySize: count, minFileSize: minSize, maxFileSize: maxSize },
  };
}

/** 10,000 files of 4-64 KiB; 200 photos of 2-8 MiB; 4 files of 2 GiB; all times `scale`. */
export function dataSet(name: DataSet['name'], scale: number): DataSet {
  const n = (full: number) => Math.max(1, Math.round(full * scale));
  switch (name) {
    case 'small':
      return build('small', n(10_000), 4 * 1024, 64 * 1024, 100, 'bin');
    case 'photos':
      return build('photos', n(200), 2 * MiB, 8 * MiB, 50, 'jpg');
    case 'large': {
      const size = Math.max(MiB, Math.round(2 * 1024 * MiB * Math.min(1, scale)));
      return build('large', 4, size, size, 4, 'bin');
    }
  }
}

/** The 1 % of a data set that the repeat-1pct scenario rewrites (at least one file). */
export function onePercent(ds: DataSet): SeedFile[] {
  const k = Math.max(1, Math.round(ds.files.length / 100));
  const step = ds.files.length / k;
  return Array.from({ length: k }, (_, i) => {
    const f = ds.files[Math.floor(i * step)]!;
    return { ...f, seed: f.seed + 777_000, size: f.size + 1 };
  });
}
