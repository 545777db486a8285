/**
 * Go's text/template, the part that docker and docker-machine --format strings use:
 * text and {{actions}} (with {{- -}} trimming and comments), pipelines with `|`,
 * fields (.A.B), variables ($, $x := …, $x = …), literals, parenthesised pipelines,
 * if/else if/else, range (with else and $i, $v :=), with/else, Go's built-in functions
 * (and or not eq ne lt le gt ge len index print printf println slice) and the ones a
 * caller adds (json, join, upper, …). No npm package implements this with Go's
 * semantics (an unknown function fails at parse time, an unknown field of a struct
 * fails at execution), hence this module.
 *
 * Values: a plain object is a Go struct (an unknown field is an error), an object
 * passed through goMap() is a map (a missing key is "<no value>"), an object with its
 * own toString() prints with it (Go's Stringer) and marshals with its toJSON().
 * With `lenient`, every object is a map (JSON from an API, where Go has zero values).
 */
export class TemplateError extends Error {}

export type TemplateFunc = (...args: any[]) => unknown;

const maps = new WeakSet<object>();
/** Marks an object as a Go map: a missing key is "<no value>", not an error. */
export function goMap<T extends object>(o: T): T {
  maps.add(o);
  return o;
}

// ---------------------------------------------------------------------------------
// Lexing: text and actions.

type Tok =
  | { t: 'field'; path: string[] } | { t: 'var'; name: string; path: string[] } | { t: 'dot' }
  | { t: 'ident'; name: string } | { t: 'string'; v: string } | { t: 'number'; v: number }
  | { t: 'bool'; v: boolean } | { t: 'nil' } | { t: '(' } | { t: ')' } | { t: '|' } | { t: ':=' } | { t: '=' } | { t: ',' }
  | { t: 'chain'; path: string[] };

function unquote(s: string): string {
  try {
    return JSON.parse(s.replace(/\\x([0-9a-fA-F]{2})/g, '\\u00$1').replace(/\\a/g, '\\u0007').replace(/\\v/g, '\\u000b').replace(/\\'/g, "'"));
  } catch {
    throw new TemplateError(`template: bad string literal ${s}`);
  }
}

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  const ident = /[A-Za-z_][A-Za-z0-9_]*/y;
  const path = (): string[] => {
    const p: string[] = [];
    while (src[i] === '.' && /[A-Za-z_]/.test(src[i + 1] ?? '')) {
      i++;
      ident.lastIndex = i;
      const m = ident.exec(src)!;
      p.push(m[0]);
      i += m[0].length;
    }
    return p;
  };
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) { i++; continue; }
    if (c === '(' || c === ')' || c === '|' || c === ',') { out.push({ t: c }); i++; if (c === ')' && src[i] === '.') out.push({ t: 'chain', path: path() }); continue; }
    if (c === ':' && src[i + 1] === '=') { out.push({ t: ':=' }); i += 2; continue; }
    if (c === '=') { out.push({ t: '=' }); i++; continue; }
    if (c === '"') {
      const m = /"(?:[^"\\]|\\.)*"/y;
      m.lastIndex = i;
      const r = m.exec(src);
      if (!r) throw new TemplateError('template: unterminated quoted string');
      out.push({ t: 'string', v: unquote(r[0]) });
      i += r[0].length;
      continue;
    }
    if (c === '`') {
      const end = src.indexOf('`', i + 1);
      if (end < 0) throw new TemplateError('template: unterminated raw quoted string');
      out.push({ t: 'string', v: src.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    if (c === '.') {
      if (/[A-Za-z_]/.test(src[i + 1] ?? '')) out.push({ t: 'field', path: path() });
      else { out.push({ t: 'dot' }); i++; }
      continue;
    }
    if (c === '$') {
      const m = /\$[A-Za-z0-9_]*/y;
      m.lastIndex = i;
      const name = m.exec(src)![0];
      i += name.length;
      out.push({ t: 'var', name, path: path() });
      continue;
    }
    const num = /[-+]?(?:0[xX][0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+)/y;
    num.lastIndex = i;
    const n = /[-+\d]/.test(c) ? num.exec(src) : null;
    if (n) { out.push({ t: 'number', v: Number(n[0]) }); i += n[0].length; continue; }
    ident.lastIndex = i;
    const id = ident.exec(src);
    if (id) {
      i += id[0].length;
      const w = id[0];
      if (w === 'true' || w === 'false') out.push({ t: 'bool', v: w === 'true' });
      else if (w === 'nil') out.push({ t: 'nil' });
      else out.push({ t: 'ident', name: w });
      continue;
    }
    throw new TemplateError(`template: unexpected "${c}" in command`);
  }
  return out;
}

// ---------------------------------------------------------------------------------
// Parsing.

type Arg =
  | { k: 'field'; path: string[] } | { k: 'var'; name: string; path: string[] } | { k: 'dot' }
  | { k: 'func'; name: string } | { k: 'lit'; v: unknown } | { k: 'pipe'; p: Pipeline; path: string[] };
interface Command { args: Arg[] }
interface Pipeline { decl: string[]; assign: boolean; cmds: Command[] }
type Node =
  | { n: 'text'; v: string }
  | { n: 'action'; p: Pipeline }
  | { n: 'if' | 'with'; p: Pipeline; then: Node[]; else: Node[] }
  | { n: 'range'; p: Pipeline; then: Node[]; else: Node[] };

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue']);

class Parser {
  private pos = 0;
  constructor(private readonly actions: readonly (string | { action: string })[], private readonly funcs: Record<string, TemplateFunc>) {}

  parse(): Node[] {
    const [nodes, end] = this.list();
    if (end) throw new TemplateError(`template: unexpected {{${end}}}`);
    return nodes;
  }

  /** Nodes up to {{end}} or {{else…}}; returns the terminator. */
  private list(): [Node[], string | undefined] {
    const nodes: Node[] = [];
    while (this.pos < this.actions.length) {
      const a = this.actions[this.pos++];
      if (typeof a === 'string') { if (a) nodes.push({ n: 'text', v: a }); continue; }
      const body = a.action.trim();
      if (body.startsWith('/*')) continue;
      const word = /^[a-z]+/.exec(body)?.[0] ?? '';
      if (word === 'end' || word === 'else') return [nodes, body];
      if (word === 'if' || word === 'with' || word === 'range') {
        nodes.push(this.control(word, body.slice(word.length)));
        continue;
      }
      if (KEYWORDS.has(word)) throw new TemplateError(`template: {{${word}}} is not supported`);
      nodes.push({ n: 'action', p: this.pipeline(tokenize(body)) });
    }
    return [nodes, undefined];
  }

  private control(kind: 'if' | 'with' | 'range', rest: string): Node {
    const p = this.pipeline(tokenize(rest));
    const [then, end] = this.list();
    if (end === undefined) throw new TemplateError(`template: unexpected EOF in {{${kind}}}`);
    let otherwise: Node[] = [];
    if (end.startsWith('else')) {
      const elseRest = end.slice(4).trim();
      if (elseRest.startsWith('if') && kind === 'if') {
        // {{else if x}} … is {{else}}{{if x}} … {{end}}{{end}}, sharing the one {{end}}.
        otherwise = [this.control('if', elseRest.slice(2))];
      } else {
        const [nodes, end2] = this.list();
        if (end2 !== 'end') throw new TemplateError(`template: expected {{end}} after {{else}} in {{${kind}}}`);
        otherwise = nodes;
      }
    } else if (end !== 'end') throw new TemplateError(`template: unexpected {{${end}}}`);
    return { n: kind, p, then, else: otherwise };
  }

  private pipeline(toks: Tok[]): Pipeline {
    let i = 0;
    const decl: string[] = [];
    let assign = false;
    // $x := … / $i, $v := … / $x = …
    const declEnd = toks.findIndex((t) => t.t === ':=' || t.t === '=');
    if (declEnd > 0 && toks.slice(0, declEnd).every((t) => t.t === 'var' || t.t === ',')) {
      for (const t of toks.slice(0, declEnd)) if (t.t === 'var') decl.push(t.name);
      assign = toks[declEnd].t === '=';
      i = declEnd + 1;
    }
    const [cmds, next] = this.commands(toks, i);
    if (next < toks.length) throw new TemplateError(`template: unexpected ${toks[next].t} in operand`);
    if (cmds.length === 0) throw new TemplateError('template: missing value for command');
    return { decl, assign, cmds };
  }

  private commands(toks: Tok[], start: number): [Command[], number] {
    const cmds: Command[] = [];
    let args: Arg[] = [];
    let i = start;
    for (; i < toks.length; i++) {
      const t = toks[i];
      if (t.t === ')') break;
      if (t.t === '|') {
        if (!args.length) throw new TemplateError('template: missing command before |');
        cmds.push({ args });
        args = [];
        continue;
      }
      if (t.t === '(') {
        const [inner, end] = this.commands(toks, i + 1);
        if (toks[end]?.t !== ')') throw new TemplateError('template: unclosed left paren');
        i = end;
        const chain = toks[i + 1]?.t === 'chain' ? (toks[++i] as { path: string[] }).path : [];
        args.push({ k: 'pipe', p: { decl: [], assign: false, cmds: inner }, path: chain });
        continue;
      }
      if (t.t === 'field') args.push({ k: 'field', path: t.path });
      else if (t.t === 'var') args.push({ k: 'var', name: t.name, path: t.path });
      else if (t.t === 'dot') args.push({ k: 'dot' });
      else if (t.t === 'string' || t.t === 'number' || t.t === 'bool') args.push({ k: 'lit', v: t.v });
      else if (t.t === 'nil') args.push({ k: 'lit', v: null });
      else if (t.t === 'ident') {
        if (!(t.name in this.funcs) && !(t.name in BUILTINS)) throw new TemplateError(`template: function "${t.name}" not defined`);
        args.push({ k: 'func', name: t.name });
      } else throw new TemplateError(`template: unexpected "${t.t}" in command`);
    }
    if (args.length) cmds.push({ args });
    return [cmds, i];
  }
}

/** Splits a template into text and actions, applying {{- and -}} trimming. */
function split(src: string): (string | { action: string })[] {
  const parts: (string | { action: string })[] = [];
  let i = 0;
  let trimNext = false;
  while (i <= src.length) {
    const open = src.indexOf('{{', i);
    let text = open < 0 ? src.slice(i) : src.slice(i, open);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (open < 0) { parts.push(text); break; }
    let start = open + 2;
    if (src.startsWith('- ', start) || src.startsWith('-\t', start) || src.startsWith('-\n', start)) { text = text.replace(/\s+$/, ''); start += 1; }
    parts.push(text);
    // Closing braces inside a quoted string do not end the action.
    let j = start;
    let close = -1;
    while (j < src.length) {
      const ch = src[j];
      if (ch === '"') { j++; while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1; j++; continue; }
      if (ch === '`') { j = src.indexOf('`', j + 1) + 1 || src.length; continue; }
      if (src.startsWith('}}', j)) { close = j; break; }
      j++;
    }
    if (close < 0) throw new TemplateError('template: unclosed action');
    let end = close;
    trimNext = false;
    if (/[ \t\n]-$/.test(src.slice(start, close))) { end = close - 1; trimNext = true; }
    parts.push({ action: src.slice(start, end) });
    i = close + 2;
  }
  return parts;
}

// ---------------------------------------------------------------------------------
// Values: truth, printing, comparison (Go's rules).

function hasOwnToString(v: object): boolean {
  return typeof (v as { toString?: unknown }).toString === 'function' && (v as object).toString !== Object.prototype.toString && !Array.isArray(v);
}

export function truth(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object' && maps.has(v)) return Object.keys(v).length > 0;
  return true;
}

/** Go's fmt %v. */
export function show(v: unknown): string {
  if (v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(show).join(' ')}]`;
  if (typeof v === 'object') {
    if (hasOwnToString(v)) return String(v);
    if (maps.has(v)) return `map[${Object.keys(v).sort().map((k) => `${k}:${show((v as Record<string, unknown>)[k])}`).join(' ')}]`;
    return `{${Object.values(v).map(show).join(' ')}}`;
  }
  return String(v);
}

function basic(v: unknown): unknown {
  return v !== null && typeof v === 'object' && hasOwnToString(v) ? String(v) : v;
}

function compare(op: string, a: unknown, b: unknown): boolean {
  const x = basic(a);
  const y = basic(b);
  if (typeof x !== typeof y || (typeof x === 'object' && x !== null)) {
    if (op === 'eq' || op === 'ne') {
      if (x === null || y === null) return op === 'eq' ? x === y : x !== y;
    }
    throw new TemplateError(`template: error calling ${op}: incompatible types for comparison`);
  }
  switch (op) {
    case 'eq': return x === y;
    case 'ne': return x !== y;
    case 'lt': return (x as number) < (y as number);
    case 'le': return (x as number) <= (y as number);
    case 'gt': return (x as number) > (y as number);
    default: return (x as number) >= (y as number);
  }
}

/** Go's json.Marshal: compact, with <, > and & escaped. */
export function goJson(v: unknown, indent?: string): string {
  const s = JSON.stringify(v === undefined ? null : v, null, indent) ?? 'null';
  return s.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Go's fmt.Sprintf for the verbs templates use: %s %v %d %q %t %f %x %%, with width and '-'. */
export function sprintf(format: string, ...args: unknown[]): string {
  let n = 0;
  return format.replace(/%([-+ 0#]*)(\d*)(?:\.(\d+))?([svdqtfxX%])/g, (_m, flags: string, width: string, prec: string | undefined, verb: string) => {
    if (verb === '%') return '%';
    if (n >= args.length) return `%!${verb}(MISSING)`;
    const a = basic(args[n++]);
    let s: string;
    switch (verb) {
      case 'd': s = typeof a === 'number' ? String(Math.trunc(a)) : `%!d(${typeof a}=${show(a)})`; break;
      case 'q': s = JSON.stringify(show(a)); break;
      case 'f': s = typeof a === 'number' ? a.toFixed(prec === undefined ? 6 : Number(prec)) : `%!f(${typeof a}=${show(a)})`; break;
      case 'x': case 'X': s = typeof a === 'number' ? a.toString(16) : Buffer.from(show(a)).toString('hex'); if (verb === 'X') s = s.toUpperCase(); break;
      default: s = show(a); if (prec !== undefined && verb === 's') s = s.slice(0, Number(prec));
    }
    const w = Number(width || 0);
    return flags.includes('-') ? s.padEnd(w) : s.padStart(w, flags.includes('0') && verb !== 's' ? '0' : ' ');
  }) + (n < args.length ? `%!(EXTRA ${args.slice(n).map(show).join(', ')})` : '');
}

function sprint(args: unknown[]): string {
  // fmt.Sprint: a space between operands when neither side is a string.
  return args.map((a, i) => (i > 0 && typeof args[i - 1] !== 'string' && typeof a !== 'string' ? ' ' : '') + show(a)).join('');
}

function indexOf(v: unknown, keys: unknown[]): unknown {
  let cur = v;
  for (const k of keys) {
    if (cur === null || cur === undefined) throw new TemplateError('template: error calling index: index of untyped nil');
    if (Array.isArray(cur) || typeof cur === 'string') {
      if (typeof k !== 'number' || k < 0 || k >= cur.length) throw new TemplateError(`template: error calling index: index out of range: ${show(k)}`);
      cur = cur[k];
    } else if (typeof cur === 'object') cur = (cur as Record<string, unknown>)[String(k)] ?? (maps.has(cur) ? '' : undefined);
    else throw new TemplateError(`template: error calling index: can't index item of type ${typeof cur}`);
  }
  return cur;
}

const BUILTINS: Record<string, TemplateFunc> = {
  not: (a) => !truth(a),
  eq: (a, ...bs) => bs.some((b) => compare('eq', a, b)),
  ne: (a, b) => compare('ne', a, b),
  lt: (a, b) => compare('lt', a, b),
  le: (a, b) => compare('le', a, b),
  gt: (a, b) => compare('gt', a, b),
  ge: (a, b) => compare('ge', a, b),
  len: (a) => {
    if (typeof a === 'string' || Array.isArray(a)) return a.length;
    if (a && typeof a === 'object' && maps.has(a)) return Object.keys(a).length;
    throw new TemplateError(`template: error calling len: len of type ${a === null ? 'nil' : typeof a}`);
  },
  index: (a, ...keys) => indexOf(a, keys),
  slice: (a, i = 0, j?: number) => {
    if (typeof a !== 'string' && !Array.isArray(a)) throw new TemplateError('template: error calling slice: can\'t slice item');
    return a.slice(i, j);
  },
  print: (...args) => sprint(args),
  println: (...args) => `${args.map(show).join(' ')}\n`,
  printf: (f: string, ...args) => sprintf(f, ...args),
  // and/or short-circuit: handled in the executor, listed here for the parser.
  and: () => undefined,
  or: () => undefined,
};

// ---------------------------------------------------------------------------------
// Execution.

type Scope = { name: string; value: unknown }[];

class Exec {
  out = '';
  /** lenient: every object is a map (data decoded from JSON, where Go would have a struct with zero values). */
  constructor(private readonly funcs: Record<string, TemplateFunc>, private readonly lenient: boolean) {}

  run(nodes: Node[], dot: unknown, vars: Scope): void {
    for (const node of nodes) {
      if (node.n === 'text') this.out += node.v;
      else if (node.n === 'action') {
        const v = this.pipeline(node.p, dot, vars);
        if (node.p.decl.length === 0) this.out += show(v);
      } else if (node.n === 'if' || node.n === 'with') {
        const inner: Scope = [...vars];
        const v = this.pipeline(node.p, dot, inner);
        if (truth(v)) this.run(node.then, node.n === 'with' ? v : dot, inner);
        else this.run(node.else, dot, inner);
      } else {
        const inner: Scope = [...vars];
        const v = this.pipeline({ ...node.p, decl: [] }, dot, inner);
        const entries: [unknown, unknown][] = Array.isArray(v) ? v.map((x, i) => [i, x])
          : v && typeof v === 'object' ? Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]])
            : typeof v === 'number' ? Array.from({ length: v }, (_, i) => [i, i])
              : v === null || v === undefined ? [] : (() => { throw new TemplateError(`template: range can't iterate over ${show(v)}`); })();
        if (entries.length === 0) this.run(node.else, dot, inner);
        for (const [k, x] of entries) {
          const scope: Scope = [...inner];
          const d = node.p.decl;
          if (d.length === 1) scope.push({ name: d[0], value: x });
          if (d.length === 2) scope.push({ name: d[0], value: k }, { name: d[1], value: x });
          this.run(node.then, x, scope);
        }
      }
    }
  }

  private pipeline(p: Pipeline, dot: unknown, vars: Scope): unknown {
    let v: unknown = undefined;
    let piped = false;
    for (const c of p.cmds) {
      v = this.command(c, dot, vars, piped ? { v } : undefined);
      piped = true;
    }
    if (p.assign) {
      for (const name of p.decl) {
        const slot = [...vars].reverse().find((s) => s.name === name);
        if (!slot) throw new TemplateError(`template: undefined variable: ${name}`);
        slot.value = v;
      }
    } else if (p.decl.length) vars.push({ name: p.decl[p.decl.length - 1], value: v });
    return v;
  }

  private command(c: Command, dot: unknown, vars: Scope, final?: { v: unknown }): unknown {
    const [head, ...rest] = c.args;
    if (head.k !== 'func') {
      if (rest.length || final) throw new TemplateError(`template: can't give argument to non-function ${describe(head)}`);
      return this.arg(head, dot, vars);
    }
    if (head.name === 'and' || head.name === 'or') {
      const operands = [...rest.map((a) => () => this.arg(a, dot, vars)), ...(final ? [() => final.v] : [])];
      if (!operands.length) throw new TemplateError(`template: wrong number of args for ${head.name}: want at least 1 got 0`);
      let v: unknown;
      for (const get of operands) {
        v = get();
        if (head.name === 'and' ? !truth(v) : truth(v)) return v;
      }
      return v;
    }
    const fn = this.funcs[head.name] ?? BUILTINS[head.name];
    const args = rest.map((a) => this.arg(a, dot, vars));
    if (final) args.push(final.v);
    try {
      return fn(...args);
    } catch (err) {
      if (err instanceof TemplateError) throw err;
      throw new TemplateError(`template: error calling ${head.name}: ${(err as Error).message}`);
    }
  }

  private arg(a: Arg, dot: unknown, vars: Scope): unknown {
    switch (a.k) {
      case 'lit': return a.v;
      case 'dot': return dot;
      case 'field': return field(dot, a.path, '', this.lenient);
      case 'var': {
        const slot = a.name === '$' ? vars[0] : [...vars].reverse().find((s) => s.name === a.name);
        if (!slot) throw new TemplateError(`template: undefined variable: ${a.name}`);
        return field(slot.value, a.path, a.name, this.lenient);
      }
      case 'pipe': return field(this.pipeline(a.p, dot, [...vars]), a.path, '(…)', this.lenient);
      default: throw new TemplateError(`template: ${describe(a)} is not a value`);
    }
  }
}

function describe(a: Arg): string {
  if (a.k === 'field') return `.${a.path.join('.')}`;
  if (a.k === 'var') return a.name + a.path.map((p) => `.${p}`).join('');
  if (a.k === 'func') return a.name;
  if (a.k === 'dot') return '.';
  return a.k === 'lit' ? show(a.v) : '(…)';
}

function field(v: unknown, path: string[], prefix: string, lenient: boolean): unknown {
  let cur = v;
  let at = prefix;
  for (const key of path) {
    at += `.${key}`;
    if (lenient && (cur === null || cur === undefined || (typeof cur === 'object' && !Array.isArray(cur)))) {
      cur = cur == null ? undefined : (cur as Record<string, unknown>)[key];
      continue;
    }
    if (cur === null || cur === undefined) throw new TemplateError(`template: executing at <${at}>: nil pointer evaluating ${at}`);
    if (typeof cur !== 'object' || Array.isArray(cur)) throw new TemplateError(`template: executing at <${at}>: can't evaluate field ${key} in type ${Array.isArray(cur) ? 'slice' : typeof cur}`);
    if (maps.has(cur)) {
      cur = (cur as Record<string, unknown>)[key];
      continue;
    }
    if (!Object.prototype.hasOwnProperty.call(cur, key)) throw new TemplateError(`template: executing at <${at}>: can't evaluate field ${key}`);
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

export interface Template { execute(data: unknown): string }

/** Parses a template; an unknown function or a syntax error throws TemplateError now, as Go's Parse does. */
export function parseTemplate(src: string, funcs: Record<string, TemplateFunc> = {}, opts: { lenient?: boolean } = {}): Template {
  const nodes = new Parser(split(src), funcs).parse();
  return {
    execute(data: unknown): string {
      const x = new Exec(funcs, opts.lenient === true);
      x.run(nodes, data, [{ name: '$', value: data }]);
      return x.out;
    },
  };
}

/** The functions docker's CLI adds to its templates (and docker-machine scripts use). */
export const DOCKER_FUNCS: Record<string, TemplateFunc> = {
  json: (v) => goJson(v),
  prettyjson: (v) => goJson(v, '    '), // docker-machine inspect's: four spaces
  join: (a: unknown, sep: string) => (Array.isArray(a) ? a.map(show).join(sep) : show(a)),
  split: (s: unknown, sep: string) => show(s).split(sep),
  upper: (s: unknown) => show(s).toUpperCase(),
  lower: (s: unknown) => show(s).toLowerCase(),
  title: (s: unknown) => show(s).replace(/\b\w/g, (c) => c.toUpperCase()),
  truncate: (s: unknown, n: number) => [...show(s)].slice(0, n).join(''),
  pad: (s: unknown, before: number, after: number) => ' '.repeat(before) + show(s) + ' '.repeat(after),
};

/**
 * Go's text/tabwriter as docker and docker-machine use it (minwidth, padding, ' '):
 * every tab-terminated cell is padded to its column's width, the last cell of a line is not.
 */
export function tabwrite(text: string, minwidth: number, padding: number): string {
  const lines = text.split('\n');
  const trailing = lines[lines.length - 1] === '' ? lines.pop() : undefined;
  const cells = lines.map((l) => l.split('\t'));
  const widths: number[] = [];
  for (const row of cells) row.slice(0, -1).forEach((c, i) => { widths[i] = Math.max(widths[i] ?? minwidth, [...c].length + padding); });
  const out = cells.map((row) => row.map((c, i) => (i < row.length - 1 ? c + ' '.repeat(widths[i] - [...c].length) : c)).join(''));
  return out.join('\n') + (trailing !== undefined ? '\n' : '');
}
