/**
 * The Dockerfile parser, with docker's line rules: parser directives (`# escape=`,
 * `# syntax=`) only before anything else, the escape character ending a line joins
 * the next one, comment and empty lines inside a continuation are dropped, and
 * `--flag=value` words after the keyword are the instruction's flags.
 *
 * Written here rather than taken from npm: the maintained parser there
 * (dockerfile-ast) is an editor AST and keeps comment lines that sit inside a
 * continuation in the argument text, which docker drops; the text that docker
 * runs and keys its cache on is what this module must produce.
 */
import { InvalidArgumentError } from '../errors.js';

export interface Instruction {
  /** Upper case: RUN, COPY, … */
  keyword: string;
  /** The arguments after the flags, continuations joined, as docker keeps them. */
  args: string;
  flags: Record<string, string>;
  /** The JSON (exec) form's array, when the arguments are one. */
  json?: string[];
  /** The instruction as written (joined), for messages and history. */
  original: string;
  line: number;
}

export interface Dockerfile {
  escape: string;
  instructions: Instruction[];
  warnings: string[];
}

const KEYWORDS = new Set(['FROM', 'RUN', 'CMD', 'LABEL', 'MAINTAINER', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME', 'USER', 'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL']);

export function parseDockerfile(text: string): Dockerfile {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let escape = '\\';
  const warnings: string[] = [];
  let i = 0;
  // Parser directives: comment lines of the form `# name=value` at the very top.
  const seen = new Set<string>();
  for (; i < lines.length; i++) {
    // Trimmed first: a lazy value before `\s*$` is quadratic on long runs of spaces.
    const m = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=([\s\S]*)$/.exec(lines[i].trim());
    if (!m || !m[2].trim()) break;
    m[2] = m[2].trim();
    const name = m[1].toLowerCase();
    if (seen.has(name)) throw new InvalidArgumentError(`Dockerfile line ${i + 1}: the parser directive "${name}" is given twice: keep one`);
    seen.add(name);
    if (name === 'escape') {
      if (m[2] !== '\\' && m[2] !== '`') throw new InvalidArgumentError(`Dockerfile line ${i + 1}: invalid escape token '${m[2]}': use \\ or \``);
      escape = m[2];
    } else if (name === 'syntax') {
      warnings.push(`the syntax directive (${m[2]}) is ignored: this builder has one Dockerfile syntax`);
    } else {
      break;
    }
  }
  const contRe = new RegExp(`${escape === '\\' ? '\\\\' : '`'}[ \\t]*$`);
  const isComment = (l: string) => /^\s*#/.test(l);
  const instructions: Instruction[] = [];
  for (; i < lines.length; i++) {
    const first = lines[i].replace(/^\s+/, '');
    if (!first || first.startsWith('#')) continue;
    const start = i + 1;
    let line = first;
    let more = contRe.test(line);
    if (more) line = line.replace(contRe, '');
    while (more && i + 1 < lines.length) {
      const next = lines[++i];
      if (isComment(next)) continue;
      if (!next.trim()) continue;
      more = contRe.test(next);
      line += more ? next.replace(contRe, '') : next;
    }
    const ins = parseLine(line.trim(), start);
    if (ins) instructions.push(ins);
  }
  return { escape, instructions, warnings };
}

function parseLine(line: string, lineNo: number): Instruction | undefined {
  if (!line) return undefined;
  const m = /^(\S+)\s*([\s\S]*)$/.exec(line)!;
  const keyword = m[1].toUpperCase();
  if (!KEYWORDS.has(keyword)) throw new InvalidArgumentError(`Dockerfile line ${lineNo}: unknown instruction: ${m[1]}`);
  let rest = m[2];
  const flags: Record<string, string> = {};
  for (;;) {
    const f = /^--([a-zA-Z][a-zA-Z0-9-]*)(?:=(\S*))?(?:\s+|$)/.exec(rest);
    if (!f) break;
    if (keyword === 'ONBUILD') break;
    flags[f[1].toLowerCase()] = f[2] ?? 'true';
    rest = rest.slice(f[0].length);
  }
  if (/^<<-?["']?[A-Za-z_]/.test(rest) && ['RUN', 'COPY', 'ADD'].includes(keyword)) {
    throw new InvalidArgumentError(`Dockerfile line ${lineNo}: heredocs (${rest.split('\n')[0].trim()}) are not supported by this builder: write the commands on the ${keyword} line or put the file in the context`);
  }
  const ins: Instruction = { keyword, args: rest, flags, original: line, line: lineNo };
  if (rest.startsWith('[')) {
    try {
      const v = JSON.parse(rest);
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) ins.json = v;
    } catch {
      // Not JSON: the shell form, as docker falls back.
    }
  }
  return ins;
}

/**
 * Words split on whitespace, quotes and escapes kept (docker's parseWords), for
 * `ENV a=1 b="x y"` style name=value lists.
 */
export function splitWords(s: string, escape: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote = '';
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (!quote && /\s/.test(c)) {
      if (inWord) { words.push(word); word = ''; inWord = false; }
      continue;
    }
    inWord = true;
    if (c === escape && i + 1 < s.length) {
      word += c + s[++i];
      continue;
    }
    if (quote) { if (c === quote) quote = ''; }
    else if (c === '"' || c === "'") quote = c;
    word += c;
  }
  if (inWord) words.push(word);
  return words;
}

/** name=value pairs of ENV/LABEL/ARG; the legacy `ENV name value` form too (values still unexpanded). */
export function nameValues(ins: Instruction, escape: string): Array<[string, string | undefined]> {
  const words = splitWords(ins.args, escape);
  if (!words.length) throw new InvalidArgumentError(`${ins.keyword} requires at least one argument (Dockerfile line ${ins.line})`);
  if (ins.keyword === 'ARG') {
    return words.map((w) => {
      const eq = w.indexOf('=');
      return eq < 0 ? [w, undefined] : [w.slice(0, eq), w.slice(eq + 1)];
    });
  }
  if (!words[0].includes('=')) {
    if (ins.keyword === 'LABEL') throw new InvalidArgumentError(`LABEL needs name=value pairs (Dockerfile line ${ins.line})`);
    const m = /^(\S+)\s+([\s\S]*)$/.exec(ins.args.trim());
    if (!m) throw new InvalidArgumentError(`${ins.keyword} ${ins.args.trim()}: give a value, as ${ins.keyword} name=value (Dockerfile line ${ins.line})`);
    return [[m[1], m[2]]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw new InvalidArgumentError(`${ins.keyword}: ${w} is not name=value (Dockerfile line ${ins.line}): quote values with spaces`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}
