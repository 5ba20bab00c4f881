// The vendor's Query object, read leniently: filters on the certificate's
// name, its id (number) and its dates, nested groups, orders and a
// limit/offset view. What is not supported is refused with the list of what is.
import { UsageError } from '../../../errors.ts';
import type { QueryBody, QueryFilter } from './schemas.ts';

export interface Searchable {
  name: string;
  /** The certificate's number (the id the API answers). */
  id: number;
  created: number;
  updated: number;
  /** The current version's notAfter; null before the first issuance. */
  expire: number | null;
}

type Predicate = (item: Searchable) => boolean;

const TEXT_KEYS = ['name', 'id'];
const TIME_KEYS = ['expire', 'created', 'updated'];
const TEXT_OPERATORS = ['EQUAL', 'NOT_EQUAL', 'LIKE', 'ILIKE', 'NOT_LIKE', 'IN'];
const TIME_OPERATORS = ['EQUAL', 'NOT_EQUAL', 'GREATER', 'GREATER_EQUAL', 'LESS', 'LESS_EQUAL', 'IS_NULL', 'IS_NOT_NULL'];

/** The page of matching items, in the query's order, and how many match in all. */
export function runQuery<T extends Searchable>(items: T[], query: QueryBody): { page: T[]; total: number } {
  const predicate = group(query.filters ?? [], 'filters');
  const matching = items.filter(predicate).sort(comparator(query.orders ?? []));
  const offset = query.view?.offset ?? 0;
  const limit = query.view?.limit ?? matching.length;
  return { page: matching.slice(offset, offset + limit), total: matching.length };
}

/** A list of filters, each joined to the one before it by its own `link` (AND unless OR). */
function group(filters: QueryFilter[], path: string): Predicate {
  const parts = filters.map((filter, index) => ({ test: compile(filter, `${path}[${index}]`), or: linkOf(filter, `${path}[${index}]`) === 'OR' }));
  return (item) => parts.reduce<boolean>((result, part, index) => (index === 0 ? part.test(item) : part.or ? result || part.test(item) : result && part.test(item)), true);
}

function compile(filter: QueryFilter, path: string): Predicate {
  const children = filter.filters && filter.filters.length > 0 ? group(filter.filters, `${path}.filters`) : undefined;
  if (!filter.key) {
    if (children) return children;
    throw new UsageError(`${path}.key: name the field to filter on (${[...TEXT_KEYS, ...TIME_KEYS].join(', ')}) or give nested filters`, `${path}.key`);
  }
  const leaf = condition(filter, path);
  return children ? (item) => leaf(item) && children(item) : leaf;
}

function condition(filter: QueryFilter, path: string): Predicate {
  const key = filter.key!;
  const operator = (filter.operator ?? 'EQUAL').toUpperCase();
  if (TEXT_KEYS.includes(key)) return textCondition(operator, filter.value ?? '', path, key === 'id' ? (item) => String(item.id) : (item) => item.name);
  if (TIME_KEYS.includes(key)) return timeCondition(key as 'expire' | 'created' | 'updated', operator, filter.value, path);
  throw new UsageError(`${path}.key: "${key}" cannot be filtered on; use ${[...TEXT_KEYS, ...TIME_KEYS].join(', ')}`, `${path}.key`);
}

function textCondition(operator: string, value: string, path: string, text: (item: Searchable) => string): Predicate {
  switch (operator) {
    case 'EQUAL':
      return (item) => text(item) === value;
    case 'NOT_EQUAL':
      return (item) => text(item) !== value;
    case 'LIKE':
      return matcher(value, '', text);
    case 'ILIKE':
      return matcher(value, 'i', text);
    case 'NOT_LIKE': {
      const like = matcher(value, '', text);
      return (item) => !like(item);
    }
    case 'IN': {
      const values = new Set(value.split(',').map((v) => v.trim()));
      return (item) => values.has(text(item));
    }
    default:
      throw new UsageError(`${path}.operator: "${operator}" does not apply to names; use ${TEXT_OPERATORS.join(', ')}`, `${path}.operator`);
  }
}

/** LIKE patterns: `*` or `%` for any run of characters, `?` or `_` for one. */
function matcher(pattern: string, flags: string, text: (item: Searchable) => string): Predicate {
  const source = [...pattern].map((c) => ('*%'.includes(c) ? '.*' : '?_'.includes(c) ? '.' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('');
  const regex = new RegExp(`^${source}$`, flags);
  return (item) => regex.test(text(item));
}

function timeCondition(key: 'expire' | 'created' | 'updated', operator: string, value: string | null | undefined, path: string): Predicate {
  if (operator === 'IS_NULL') return (item) => item[key] === null;
  if (operator === 'IS_NOT_NULL') return (item) => item[key] !== null;
  const at = Date.parse(value ?? '');
  if (Number.isNaN(at)) throw new UsageError(`${path}.value: "${value ?? ''}" is not a date; use ISO 8601, e.g. 2026-11-22T00:00:00Z`, `${path}.value`);
  const compare: Record<string, (a: number) => boolean> = {
    EQUAL: (a) => a === at,
    NOT_EQUAL: (a) => a !== at,
    GREATER: (a) => a > at,
    GREATER_EQUAL: (a) => a >= at,
    LESS: (a) => a < at,
    LESS_EQUAL: (a) => a <= at,
  };
  const test = compare[operator];
  if (!test) throw new UsageError(`${path}.operator: "${operator}" does not apply to dates; use ${TIME_OPERATORS.join(', ')}`, `${path}.operator`);
  return (item) => item[key] !== null && test(item[key]);
}

function linkOf(filter: QueryFilter, path: string): 'AND' | 'OR' {
  const link = (filter.link ?? 'AND').toUpperCase();
  if (link !== 'AND' && link !== 'OR') throw new UsageError(`${path}.link: "${filter.link}" is not a link; use AND or OR`, `${path}.link`);
  return link;
}

function comparator(orders: NonNullable<QueryBody['orders']>): (a: Searchable, b: Searchable) => number {
  const keys = orders.map((order, index) => {
    const key = order.key ?? 'name';
    if (![...TEXT_KEYS, ...TIME_KEYS].includes(key)) {
      throw new UsageError(`orders[${index}].key: "${order.key}" cannot be sorted on; use ${[...TEXT_KEYS, ...TIME_KEYS].join(', ')}`, `orders[${index}].key`);
    }
    return { key: key as keyof Searchable, descending: (order.type ?? 'ASC').toUpperCase() === 'DESC' };
  });
  if (keys.length === 0) keys.push({ key: 'name', descending: false });
  return (a, b) => {
    for (const { key, descending } of keys) {
      const order = compareValues(a[key], b[key]);
      if (order !== 0) return descending ? -order : order;
    }
    return 0;
  };
}

function compareValues(a: string | number | null, b: string | number | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}
