import { driveErrors } from './drive-errors.js';

/** The subset of the Drive `q` language the fake understands (protocols/google-drive.md 4, 10). */
export type Clause =
  | { kind: 'inParents'; id: string }
  | { kind: 'trashed'; value: boolean }
  | { kind: 'name'; op: '=' | '!=' | 'contains'; value: string }
  | { kind: 'mimeType'; op: '=' | '!='; value: string };

export interface QueryTarget {
  parents: string[];
  trashed: boolean;
  name: string;
  mimeType: string;
}

/**
 * Parses `clause and clause and ...`. Strings are single-quoted with `\'` and `\\` escapes; any
 * other construct (or, not, parentheses, unknown fields) is refused with 400 like a typo would be.
 */
export function parseQuery(q: string | null): Clause[] {
  if (q === null || q.trim() === '') return [];
  const tokens = tokenize(q);
  const clauses: Clause[] = [];
  let i = 0;
  const next = (): string => {
    const t = tokens[i++];
    if (t === undefined) throw driveErrors.invalid('q', 'Invalid Value');
    return t;
  };
  while (i < tokens.length) {
    const a = next();
    const op = next();
    const b = next();
    clauses.push(toClause(a, op, b));
    if (i < tokens.length) {
      if (next().toLowerCase() !== 'and') throw driveErrors.invalid('q', 'Invalid Value');
    }
  }
  return clauses;
}

function toClause(a: string, op: string, b: string): Clause {
  const isStr = (t: string) => t.startsWith("'");
  const str = (t: string) => t.slice(1, -1).replace(/\\(.)/g, '$1');
  if (isStr(a) && op === 'in' && b === 'parents') return { kind: 'inParents', id: str(a) };
  if (a === 'trashed' && op === '=' && (b === 'true' || b === 'false')) {
    return { kind: 'trashed', value: b === 'true' };
  }
  if (a === 'name' && (op === '=' || op === '!=' || op === 'contains') && isStr(b)) {
    return { kind: 'name', op, value: str(b) };
  }
  if (a === 'mimeType' && (op === '=' || op === '!=') && isStr(b)) {
    return { kind: 'mimeType', op, value: str(b) };
  }
  throw driveErrors.invalid('q', 'Invalid Value');
}

function tokenize(q: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      i++;
    } else if (c === "'") {
      let j = i + 1;
      while (j < q.length && q[j] !== "'") j += q[j] === '\\' ? 2 : 1;
      if (j >= q.length) throw driveErrors.invalid('q', 'Invalid Value');
      out.push(q.slice(i, j + 1));
      i = j + 1;
    } else if (c === '!' && q[i + 1] === '=') {
      out.push('!=');
      i += 2;
    } else if (c === '=') {
      out.push('=');
      i++;
    } else {
      let j = i;
      while (j < q.length && /[A-Za-z0-9_]/.test(q[j]!)) j++;
      if (j === i) throw driveErrors.invalid('q', 'Invalid Value');
      out.push(q.slice(i, j));
      i = j;
    }
  }
  return out;
}

export function matches(clauses: Clause[], f: QueryTarget): boolean {
  return clauses.every((c) => {
    switch (c.kind) {
      case 'inParents':
        return f.parents.includes(c.id);
      case 'trashed':
        return f.trashed === c.value;
      case 'name':
        if (c.op === 'contains') return f.name.includes(c.value);
        return c.op === '=' ? f.name === c.value : f.name !== c.value;
      case 'mimeType':
        return c.op === '=' ? f.mimeType === c.value : f.mimeType !== c.value;
    }
  });
}

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
