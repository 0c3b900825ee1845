import { driveErrors } from './drive-errors.js';

/** `fields` selector: `a,b,files(id,name),c/d`. `true` means "the whole value". */
export type FieldTree = Map<string, FieldTree | true>;

export function parseFields(fields: string | null): FieldTree | '*' | undefined {
  if (fields === null || fields.trim() === '') return undefined;
  if (fields.trim() === '*') return '*';
  let i = 0;
  const s = fields.replace(/\s+/g, '');
  const parseList = (): FieldTree => {
    const tree: FieldTree = new Map();
    for (;;) {
      let j = i;
      while (j < s.length && /[A-Za-z0-9_*/]/.test(s[j]!)) j++;
      const name = s.slice(i, j);
      if (name === '') throw driveErrors.invalid('fields', 'Invalid field selection');
      i = j;
      let sub: FieldTree | true = true;
      if (s[i] === '(') {
        i++;
        sub = parseList();
        if (s[i] !== ')') throw driveErrors.invalid('fields', 'Invalid field selection');
        i++;
      }
      const path = name.split('/');
      let node = tree;
      for (const [k, part] of path.entries()) {
        if (k === path.length - 1) {
          node.set(part, sub);
        } else {
          const existing = node.get(part);
          const child: FieldTree = existing instanceof Map ? existing : new Map();
          node.set(part, child);
          node = child;
        }
      }
      if (s[i] === ',') {
        i++;
        continue;
      }
      return tree;
    }
  };
  const tree = parseList();
  if (i !== s.length) throw driveErrors.invalid('fields', 'Invalid field selection');
  return tree;
}

/** Keeps only the selected fields, recursing into objects and arrays of objects. */
export function applyFields(value: unknown, tree: FieldTree | true | '*'): unknown {
  if (tree === true || tree === '*' || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => applyFields(v, tree));
  if (tree.has('*')) return value;
  const out: Record<string, unknown> = {};
  for (const [k, sub] of tree) {
    const v = (value as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = applyFields(v, sub);
  }
  return out;
}

export type OrderKey = { key: 'createdTime' | 'modifiedTime' | 'name' | 'folder'; desc: boolean };

export function parseOrderBy(orderBy: string | null): OrderKey[] {
  if (orderBy === null || orderBy.trim() === '') return [];
  return orderBy.split(',').map((part) => {
    const [key, dir, extra] = part.trim().split(/\s+/);
    const valid = ['createdTime', 'modifiedTime', 'name', 'folder'];
    if (
      !key ||
      !valid.includes(key) ||
      extra !== undefined ||
      (dir !== undefined && dir !== 'desc')
    ) {
      throw driveErrors.invalid('orderBy', 'Invalid Value');
    }
    return { key: key as OrderKey['key'], desc: dir === 'desc' };
  });
}
