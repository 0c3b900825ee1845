import { HttpError } from './graph-wire.js';

/**
 * OData query options on driveItem collections as the OneDrive API documents them
 * (learn.microsoft.com/onedrive/developer/rest-api/concepts/filtering-results, list-children,
 * driveitem-search): `$orderby` and the `$filter` subset (eq ne gt ge lt le, and, or, parentheses;
 * no functions, no `not`), with the OneDrive for Business limit (name and url only). What the
 * service does not support is answered with its error, never ignored.
 */

export type DriveKind = 'personal' | 'business' | 'documentLibrary';

/** Where a request's query options apply; each takes a different set (see the coverage table). */
export type QueryContext = 'item' | 'collection' | 'search' | 'delta' | 'drive';

const NOT_SUPPORTED = 'Operation not supported';

const KNOWN_OPTIONS = new Set([
  '$select',
  '$expand',
  '$top',
  '$skiptoken',
  '$orderby',
  '$filter',
  '$search',
  '$count',
  '$skip',
  '$format',
  '$apply',
  '$compute',
  '$index',
  '$levels',
]);

/** What each context takes; the rest of the known options answer 400 notSupported. */
const ALLOWED: Record<QueryContext, ReadonlySet<string>> = {
  item: new Set(['$select', '$expand']),
  drive: new Set(['$select']),
  collection: new Set(['$select', '$expand', '$top', '$skiptoken', '$orderby', '$filter']),
  search: new Set(['$select', '$expand', '$top', '$skiptoken', '$orderby', '$filter']),
  delta: new Set(['$select', '$expand', '$top']),
};

/** OData 4.01 lets the `$` be left out; the OneDrive documentation's examples do (`?select=`). */
const DOLLARLESS = ['select', 'expand', 'top', 'skiptoken', 'orderby', 'filter', 'search', 'count'];

/**
 * Returns the query with `$`-less system options renamed, and refuses unknown `$` options (400
 * invalidRequest, as OData does) and options the context does not take (400 notSupported).
 */
export function checkQueryOptions(q: URLSearchParams, context: QueryContext): URLSearchParams {
  const out = new URLSearchParams();
  for (const [k, v] of q) {
    const key = DOLLARLESS.includes(k.toLowerCase()) && !q.has(`$${k}`) ? `$${k}` : k;
    const lower = key.toLowerCase();
    if (lower.startsWith('$')) {
      if (!KNOWN_OPTIONS.has(lower))
        throw new HttpError(
          400,
          'invalidRequest',
          `The query parameter '${key}' is not supported.`,
        );
      if (!ALLOWED[context].has(lower)) throw new HttpError(400, 'notSupported', NOT_SUPPORTED);
      out.append(lower, v);
    } else out.append(key, v);
  }
  return out;
}

// ------------------------------------------------------------------ $orderby

/** Properties a drive sorts on: personal OneDrive documents name, size and lastModifiedDateTime. */
const SORTABLE: Record<'personal' | 'business', ReadonlySet<string>> = {
  personal: new Set(['name', 'size', 'lastModifiedDateTime', 'createdDateTime']),
  // "In OneDrive for Business and SharePoint Server 2016, the orderby query string only works
  // with name and url."
  business: new Set(['name', 'url', 'webUrl']),
};

/** Properties of a driveItem (v1.0); a name outside this list is an OData error, not a sort. */
const DRIVE_ITEM_PROPERTIES = new Set([
  'id',
  'name',
  'size',
  'eTag',
  'cTag',
  'createdDateTime',
  'lastModifiedDateTime',
  'webUrl',
  'url',
  'description',
  'webDavUrl',
  'createdBy',
  'lastModifiedBy',
  'parentReference',
  'fileSystemInfo',
  'file',
  'folder',
  'image',
  'photo',
  'audio',
  'video',
  'location',
  'package',
  'remoteItem',
  'root',
  'searchResult',
  'shared',
  'sharepointIds',
  'specialFolder',
  'deleted',
  'malware',
  'publication',
  'bundle',
  'content',
]);
const PRIMITIVE = new Set([
  'id',
  'name',
  'size',
  'eTag',
  'cTag',
  'createdDateTime',
  'lastModifiedDateTime',
  'webUrl',
  'url',
  'description',
  'webDavUrl',
]);

export interface SortKey {
  prop: string;
  desc: boolean;
}

/** Parses `$orderby=name desc,size`; default (absent) is by name ascending. */
export function parseOrderBy(value: string | null, kind: DriveKind): SortKey[] {
  if (value === null) return [{ prop: 'name', desc: false }];
  const keys: SortKey[] = [];
  for (const clause of value.split(',')) {
    const m = /^\s*([A-Za-z][A-Za-z0-9/]*)(?:\s+(asc|desc))?\s*$/i.exec(clause);
    if (!m)
      throw new HttpError(
        400,
        'invalidRequest',
        `Syntax error in $orderby: '${clause.trim()}' is not a property followed by asc or desc.`,
      );
    const prop = m[1]!;
    if (!DRIVE_ITEM_PROPERTIES.has(prop.split('/')[0]!))
      throw new HttpError(
        400,
        'invalidRequest',
        `Could not find a property named '${prop}' on type 'microsoft.graph.driveItem'.`,
      );
    if (!PRIMITIVE.has(prop))
      throw new HttpError(
        400,
        'invalidRequest',
        `The $orderby expression '${prop}' must evaluate to a single value of primitive type.`,
      );
    if (!SORTABLE[kind === 'personal' ? 'personal' : 'business'].has(prop))
      throw new HttpError(400, 'notSupported', NOT_SUPPORTED);
    keys.push({ prop, desc: (m[2] ?? 'asc').toLowerCase() === 'desc' });
  }
  return keys;
}

/** The sort value of one property of an item's JSON (names fold case, as the service does). */
function sortValue(item: Record<string, unknown>, prop: string): string | number {
  const v = prop === 'url' ? item.webUrl : item[prop];
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return '';
  if (prop === 'name') return v.toLowerCase();
  if (prop.endsWith('DateTime')) return Date.parse(v);
  return v;
}

/**
 * The key an item sorts by: one value per sort key, then the lower-cased name and the id so the
 * order is total (keyset paging continues after the last key handed out).
 */
export function sortKeyOf(item: Record<string, unknown>, keys: SortKey[]): (string | number)[] {
  return [
    ...keys.map((k) => sortValue(item, k.prop)),
    String(item.name).toLowerCase(),
    String(item.id),
  ];
}

export function compareKeys(
  a: readonly (string | number)[],
  b: readonly (string | number)[],
  keys: SortKey[],
): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    const c = x < y ? -1 : 1;
    return keys[i]?.desc ? -c : c;
  }
  return 0;
}

// ------------------------------------------------------------------ $filter

type Literal = string | number | boolean | null | { date: number };
type Comparison = { op: 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le'; prop: string; value: Literal };
type Expr = { op: 'and' | 'or'; left: Expr; right: Expr } | Comparison;

const FILTER_BUSINESS = new Set(['name', 'url', 'webUrl']);

/** Parses a `$filter` expression; 400 invalidRequest naming the fault, notSupported per drive. */
export function parseFilter(
  text: string,
  kind: DriveKind,
): (item: Record<string, unknown>) => boolean {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = () => tokens[pos];
  const fail = (why: string): never => {
    throw new HttpError(400, 'invalidRequest', `Invalid $filter '${text}': ${why}.`);
  };
  const word = (t: Token | undefined, w: string) =>
    t?.kind === 'word' && t.text.toLowerCase() === w;

  const parseOr = (): Expr => {
    let left = parseAnd();
    while (word(peek(), 'or')) {
      pos++;
      left = { op: 'or', left, right: parseAnd() };
    }
    return left;
  };
  const parseAnd = (): Expr => {
    let left = parsePrimary();
    while (word(peek(), 'and')) {
      pos++;
      left = { op: 'and', left, right: parsePrimary() };
    }
    return left;
  };
  const parsePrimary = (): Expr => {
    const t = peek();
    if (!t) return fail('the expression ends too early');
    if (t.kind === 'punct' && t.text === '(') {
      pos++;
      const e = parseOr();
      if (peek()?.text !== ')') fail("a ')' is missing");
      pos++;
      return e;
    }
    if (t.kind !== 'word') return fail(`unexpected '${t.text}'`);
    if (word(t, 'not')) return fail("the operator 'not' is not supported");
    pos++;
    if (tokens[pos]?.text === '(')
      return fail(
        `the function '${t.text}' is not supported (only eq, ne, gt, ge, lt, le, and, or)`,
      );
    const prop = t.text;
    if (!DRIVE_ITEM_PROPERTIES.has(prop.split('/')[0]!))
      throw new HttpError(
        400,
        'invalidRequest',
        `Could not find a property named '${prop.split('/')[0]!}' on type 'microsoft.graph.driveItem'.`,
      );
    if (kind !== 'personal' && !FILTER_BUSINESS.has(prop))
      throw new HttpError(400, 'notSupported', NOT_SUPPORTED);
    const op = peek();
    const ops = ['eq', 'ne', 'gt', 'ge', 'lt', 'le'];
    if (!op || op.kind !== 'word' || !ops.includes(op.text.toLowerCase()))
      return fail(`a comparison operator (eq, ne, gt, ge, lt, le) must follow '${prop}'`);
    pos++;
    const v = peek();
    if (!v || v.kind === 'punct') return fail(`a value must follow '${op.text}'`);
    pos++;
    return { op: op.text.toLowerCase() as 'eq', prop, value: literal(v, fail) };
  };

  const expr = parseOr();
  if (pos < tokens.length) fail(`unexpected '${tokens[pos]!.text}'`);
  return (item) => evaluate(expr, item);
}

interface Token {
  kind: 'word' | 'string' | 'punct';
  text: string;
}

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === ',') {
      out.push({ kind: 'punct', text: c });
      i++;
    } else if (c === "'") {
      let s = '';
      i++;
      for (;;) {
        if (i >= text.length)
          throw new HttpError(
            400,
            'invalidRequest',
            `Invalid $filter '${text}': unterminated string.`,
          );
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            s += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        s += text[i++];
      }
      out.push({ kind: 'string', text: s });
    } else {
      const m = /^[^\s(),']+/.exec(text.slice(i))!;
      out.push({ kind: 'word', text: m[0] });
      i += m[0].length;
    }
  }
  return out;
}

function literal(t: Token, fail: (why: string) => never): Literal {
  if (t.kind === 'string') return t.text;
  const w = t.text;
  if (w === 'null') return null;
  if (w === 'true' || w === 'false') return w === 'true';
  if (/^-?\d+(\.\d+)?$/.test(w)) return Number(w);
  if (/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?$/.test(w) && !Number.isNaN(Date.parse(w)))
    return { date: Date.parse(w) };
  return fail(`'${w}' is not a literal (strings are quoted)`);
}

function valueAt(item: Record<string, unknown>, path: string): unknown {
  let cur: unknown = item;
  for (const seg of path.split('/')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[seg === 'url' && cur === item ? 'webUrl' : seg];
  }
  return cur;
}

function evaluate(e: Expr, item: Record<string, unknown>): boolean {
  if ('left' in e) {
    const left = evaluate(e.left, item);
    return e.op === 'and' ? left && evaluate(e.right, item) : left || evaluate(e.right, item);
  }
  return compare(e, item);
}

function compare(e: Comparison, item: Record<string, unknown>): boolean {
  const actual = valueAt(item, e.prop);
  if (e.value === null) {
    const isNull = actual === undefined || actual === null;
    if (e.op === 'eq') return isNull;
    if (e.op === 'ne') return !isNull;
    return false;
  }
  if (actual === undefined || actual === null || typeof actual === 'object') return false;
  let a: string | number | boolean = actual as string | number | boolean;
  let b: string | number | boolean;
  if (typeof e.value === 'object') {
    if (typeof a !== 'string') return false;
    a = Date.parse(a);
    b = e.value.date;
  } else b = e.value;
  // Names compare without case, as the service's listings do.
  if (typeof a === 'string' && typeof b === 'string') {
    a = a.toLowerCase();
    b = b.toLowerCase();
  }
  if (typeof a !== typeof b) return e.op === 'ne';
  switch (e.op) {
    case 'eq':
      return a === b;
    case 'ne':
      return a !== b;
    case 'gt':
      return a > b;
    case 'ge':
      return a >= b;
    case 'lt':
      return a < b;
    case 'le':
      return a <= b;
  }
}
