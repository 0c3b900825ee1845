import { driveErrors } from './drive-errors.js';

/**
 * The Drive v3 search query language (developers.google.com/drive/api/guides/search-files and
 * ref-search-terms), parsed by recursive descent:
 *
 *   query   := or
 *   or      := and ('or' and)*
 *   and     := unary ('and' unary)*
 *   unary   := 'not' unary | '(' or ')' | term
 *   term    := field op value                      name = 'x', modifiedTime > '2024-01-01T00:00:00'
 *            | value 'in' collection               'id' in parents, 'me' in owners
 *            | map 'has' '{' key = v and value = v '}'   properties has { key='a' and value='b' }
 *
 * Strings are single-quoted with `\'` and `\\` escapes. Anything else (an unknown field, an
 * operator a field does not support, a missing quote) is refused with 400 `invalid` on `q`,
 * the answer Google gives.
 */
export type QueryNode =
  | { kind: 'and' | 'or'; left: QueryNode; right: QueryNode }
  | { kind: 'not'; operand: QueryNode }
  | { kind: 'compare'; field: string; op: CompareOp; value: string | boolean }
  | { kind: 'in'; value: string; collection: Collection }
  | { kind: 'has'; map: 'properties' | 'appProperties'; key: string; value: string };

export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'contains';
type Collection = 'parents' | 'owners' | 'writers' | 'readers';

/** What a query can see of a file. */
export interface SearchTarget {
  name: string;
  mimeType: string;
  parents: string[];
  trashed: boolean;
  starred?: boolean;
  createdTime: string;
  modifiedTime: string;
  /** Text of a Google-native document (what fullText searches besides the name). */
  nativeText?: string;
  properties?: Record<string, string>;
  appProperties?: Record<string, string>;
  driveId?: string;
  shortcutTargetId?: string;
}

type FieldKind = 'string' | 'date' | 'bool';
const FIELDS: Record<string, { type: FieldKind; ops: readonly CompareOp[] }> = {
  name: { type: 'string', ops: ['=', '!=', 'contains'] },
  fullText: { type: 'string', ops: ['contains'] },
  mimeType: { type: 'string', ops: ['=', '!=', 'contains'] },
  modifiedTime: { type: 'date', ops: ['=', '!=', '<', '<=', '>', '>='] },
  createdTime: { type: 'date', ops: ['=', '!=', '<', '<=', '>', '>='] },
  viewedByMeTime: { type: 'date', ops: ['=', '!=', '<', '<=', '>', '>='] },
  sharedWithMeTime: { type: 'date', ops: ['=', '!=', '<', '<=', '>', '>='] },
  trashed: { type: 'bool', ops: ['=', '!='] },
  starred: { type: 'bool', ops: ['=', '!='] },
  sharedWithMe: { type: 'bool', ops: ['=', '!='] },
  visibility: { type: 'string', ops: ['=', '!='] },
  'shortcutDetails.targetId': { type: 'string', ops: ['=', '!='] },
};
const COLLECTIONS: readonly Collection[] = ['parents', 'owners', 'writers', 'readers'];
const OPS = ['<=', '>=', '!=', '=', '<', '>'];

type Token = { t: 'str'; v: string } | { t: 'word'; v: string } | { t: 'sym'; v: string };

const invalid = () => driveErrors.invalid('q', 'Invalid Value');

export function parseSearchQuery(q: string | null): QueryNode | undefined {
  if (q === null || q.trim() === '') return undefined;
  const tokens = tokenize(q);
  let i = 0;
  const peek = (): Token | undefined => tokens[i];
  const next = (): Token => {
    const t = tokens[i++];
    if (t === undefined) throw invalid();
    return t;
  };
  const isWord = (t: Token | undefined, w: string) => t?.t === 'word' && t.v.toLowerCase() === w;
  const isSym = (t: Token | undefined, s: string) => t?.t === 'sym' && t.v === s;
  const expectSym = (s: string) => {
    if (!isSym(next(), s)) throw invalid();
  };
  const str = (): string => {
    const t = next();
    if (t.t !== 'str') throw invalid();
    return t.v;
  };

  const parseOr = (): QueryNode => {
    let left = parseAnd();
    while (isWord(peek(), 'or')) {
      i++;
      left = { kind: 'or', left, right: parseAnd() };
    }
    return left;
  };
  const parseAnd = (): QueryNode => {
    let left = parseUnary();
    while (isWord(peek(), 'and')) {
      i++;
      left = { kind: 'and', left, right: parseUnary() };
    }
    return left;
  };
  const parseUnary = (): QueryNode => {
    if (isWord(peek(), 'not')) {
      i++;
      return { kind: 'not', operand: parseUnary() };
    }
    if (isSym(peek(), '(')) {
      i++;
      const inner = parseOr();
      expectSym(')');
      return inner;
    }
    return parseTerm();
  };
  const parseTerm = (): QueryNode => {
    const first = next();
    if (first.t === 'str') {
      if (!isWord(next(), 'in')) throw invalid();
      const coll = next();
      if (coll.t !== 'word' || !COLLECTIONS.includes(coll.v as Collection)) throw invalid();
      return { kind: 'in', value: first.v, collection: coll.v as Collection };
    }
    if (first.t !== 'word') throw invalid();
    if (first.v === 'properties' || first.v === 'appProperties') {
      if (!isWord(next(), 'has')) throw invalid();
      expectSym('{');
      if (!isWord(next(), 'key')) throw invalid();
      expectSym('=');
      const key = str();
      if (!isWord(next(), 'and')) throw invalid();
      if (!isWord(next(), 'value')) throw invalid();
      expectSym('=');
      const value = str();
      expectSym('}');
      return { kind: 'has', map: first.v, key, value };
    }
    const spec = FIELDS[first.v];
    if (!spec) throw invalid();
    const opTok = next();
    const op = (isWord(opTok, 'contains') ? 'contains' : opTok.t === 'sym' ? opTok.v : '') as
      CompareOp | '';
    if (op === '' || !spec.ops.includes(op)) throw invalid();
    const valTok = next();
    if (spec.type === 'bool') {
      if (valTok.t !== 'word' || (valTok.v !== 'true' && valTok.v !== 'false')) throw invalid();
      return { kind: 'compare', field: first.v, op, value: valTok.v === 'true' };
    }
    if (valTok.t !== 'str') throw invalid();
    if (spec.type === 'date' && Number.isNaN(parseDate(valTok.v))) throw invalid();
    return { kind: 'compare', field: first.v, op, value: valTok.v };
  };

  const ast = parseOr();
  if (i !== tokens.length) throw invalid();
  return ast;
}

function tokenize(q: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'") {
      let v = '';
      let j = i + 1;
      for (; j < q.length && q[j] !== "'"; j++) {
        if (q[j] === '\\') {
          j++;
          if (j >= q.length) throw invalid();
        }
        v += q[j];
      }
      if (j >= q.length) throw invalid();
      out.push({ t: 'str', v });
      i = j + 1;
    } else if ('(){}'.includes(c)) {
      out.push({ t: 'sym', v: c });
      i++;
    } else {
      const op = OPS.find((o) => q.startsWith(o, i));
      if (op) {
        out.push({ t: 'sym', v: op });
        i += op.length;
        continue;
      }
      let j = i;
      while (j < q.length && /[A-Za-z0-9_.]/.test(q[j]!)) j++;
      if (j === i) throw invalid();
      out.push({ t: 'word', v: q.slice(i, j) });
      i = j;
    }
  }
  return out;
}

/** RFC 3339; without an offset the time is UTC (as the reference says). */
function parseDate(s: string): number {
  const withZone = /([zZ]|[+-]\d\d:\d\d)$/.test(s) || !s.includes('T') ? s : `${s}Z`;
  return Date.parse(withZone);
}

/**
 * Evaluates the tree. `rootId` is what the alias `'root'` stands for; the user is the owner and
 * the only writer of everything in My Drive ('me' or the emulated address).
 */
export function evaluateQuery(
  node: QueryNode | undefined,
  f: SearchTarget,
  ctx: { rootId: string; userEmail: string },
): boolean {
  if (node === undefined) return true;
  switch (node.kind) {
    case 'and':
      return evaluateQuery(node.left, f, ctx) && evaluateQuery(node.right, f, ctx);
    case 'or':
      return evaluateQuery(node.left, f, ctx) || evaluateQuery(node.right, f, ctx);
    case 'not':
      return !evaluateQuery(node.operand, f, ctx);
    case 'in': {
      if (node.collection === 'parents') {
        const id = node.value === 'root' ? ctx.rootId : node.value;
        return f.parents.includes(id);
      }
      const me = node.value === 'me' || node.value === ctx.userEmail;
      return me && (node.collection !== 'owners' || f.driveId === undefined);
    }
    case 'has':
      return (f[node.map] ?? {})[node.key] === node.value;
    case 'compare':
      return compare(node, f);
  }
}

function compare(node: { field: string; op: CompareOp; value: string | boolean }, f: SearchTarget) {
  const actual = fieldValue(node.field, f);
  if (typeof node.value === 'boolean') {
    return node.op === '=' ? actual === node.value : actual !== node.value;
  }
  if (FIELDS[node.field]!.type === 'date') {
    if (typeof actual !== 'string') return node.op === '!=';
    const a = parseDate(actual);
    const b = parseDate(node.value);
    const ops = { '=': a === b, '!=': a !== b, '<': a < b, '<=': a <= b, '>': a > b, '>=': a >= b };
    return ops[node.op as keyof typeof ops];
  }
  const text = typeof actual === 'string' ? actual : '';
  if (node.op === 'contains') {
    if (node.field === 'fullText') {
      const needle = node.value.toLowerCase();
      return (f.name + '\n' + (f.nativeText ?? '')).toLowerCase().includes(needle);
    }
    if (node.field === 'name') return namePrefixMatch(text, node.value);
    return text.includes(node.value);
  }
  return node.op === '=' ? text === node.value : text !== node.value;
}

function fieldValue(field: string, f: SearchTarget): string | boolean | undefined {
  switch (field) {
    case 'name':
      return f.name;
    case 'mimeType':
      return f.mimeType;
    case 'modifiedTime':
      return f.modifiedTime;
    case 'createdTime':
      return f.createdTime;
    case 'trashed':
      return f.trashed;
    case 'starred':
      return f.starred ?? false;
    case 'sharedWithMe':
      return false;
    case 'visibility':
      return 'limited';
    case 'shortcutDetails.targetId':
      return f.shortcutTargetId;
    default:
      return undefined;
  }
}

/**
 * `name contains 'x'`: Google matches case-insensitively on the start of the name or of any of its
 * words ('HelloWorld' matches 'Hello' but not 'World'); a quoted phrase with spaces matches as is.
 */
function namePrefixMatch(name: string, needle: string): boolean {
  const n = needle.toLowerCase();
  const hay = name.toLowerCase();
  if (hay.startsWith(n)) return true;
  return hay
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)
    .some((word, k, words) => words.slice(k).join(' ').startsWith(n) || word.startsWith(n));
}

/**
 * The parent a query is restricted to, when every match must be in it (`'x' in parents` at the
 * top of an and-chain): the listing then scans that folder's children instead of every file.
 */
export function requiredParent(node: QueryNode | undefined): string | undefined {
  if (node === undefined) return undefined;
  if (node.kind === 'in' && node.collection === 'parents') return node.value;
  if (node.kind === 'and') return requiredParent(node.left) ?? requiredParent(node.right);
  return undefined;
}
