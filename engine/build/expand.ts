/**
 * Variable substitution in Dockerfile words as docker's shell lexer does it:
 * $VAR, ${VAR}, ${VAR:-word}, ${VAR:+word} (and the forms without the colon),
 * single quotes literal, double quotes with \" \$ \\ escapes, the escape
 * character quoting the next one; quotes are removed from the result.
 */
import { InvalidArgumentError } from '../errors.js';

export type Vars = ReadonlyMap<string, string>;

const NAME = /[A-Za-z0-9_]/;
/** ${…} inside ${…}: each level is a stack frame; far past any real Dockerfile. */
const MAX_DEPTH = 100;

export function expandWord(word: string, vars: Vars, escape = '\\'): string {
  const lx = new Lexer(word, vars, escape);
  return lx.word('');
}

class Lexer {
  private i = 0;
  private depth = 0;
  constructor(private readonly s: string, private readonly vars: Vars, private readonly esc: string) {}

  /** Reads until `stop` (not consumed) or the end. */
  word(stop: string): string {
    let out = '';
    while (this.i < this.s.length) {
      const c = this.s[this.i];
      if (stop && c === stop) return out;
      this.i++;
      if (c === "'") {
        const end = this.s.indexOf("'", this.i);
        if (end < 0) throw new InvalidArgumentError(`unexpected end of statement while looking for matching single-quote in ${this.s}`);
        out += this.s.slice(this.i, end);
        this.i = end + 1;
      } else if (c === '"') {
        out += this.doubleQuoted();
      } else if (c === this.esc) {
        if (this.i < this.s.length) out += this.s[this.i++];
      } else if (c === '$') {
        out += this.dollar();
      } else {
        out += c;
      }
    }
    return out;
  }

  private doubleQuoted(): string {
    let out = '';
    while (this.i < this.s.length) {
      const c = this.s[this.i++];
      if (c === '"') return out;
      if (c === this.esc && this.i < this.s.length && ['"', '$', this.esc].includes(this.s[this.i])) {
        out += this.s[this.i++];
      } else if (c === '$') {
        out += this.dollar();
      } else {
        out += c;
      }
    }
    throw new InvalidArgumentError(`unexpected end of statement while looking for matching double-quote in ${this.s}`);
  }

  private dollar(): string {
    if (this.s[this.i] === '{') {
      this.i++;
      let name = '';
      while (this.i < this.s.length && NAME.test(this.s[this.i])) name += this.s[this.i++];
      if (!name) throw new InvalidArgumentError(`bad substitution in ${this.s}: \${ must be followed by a variable name`);
      const c = this.s[this.i];
      if (c === '}') {
        this.i++;
        return this.vars.get(name) ?? '';
      }
      if (c === undefined) throw new InvalidArgumentError(`missing '}' in substitution ${this.s}`);
      let op = '';
      if (c === ':') { op = ':'; this.i++; }
      const kind = this.s[this.i++];
      if (!['-', '+', '?'].includes(kind)) throw new InvalidArgumentError(`unsupported modifier (${op}${kind ?? ''}) in substitution ${this.s}: use \${VAR:-default} or \${VAR:+alternative}`);
      if (++this.depth > MAX_DEPTH) throw new InvalidArgumentError(`substitutions nested more than ${MAX_DEPTH} deep in ${this.s.slice(0, 200)}…: simplify the expression`);
      const alt = this.word('}');
      this.depth--;
      if (this.s[this.i] !== '}') throw new InvalidArgumentError(`missing '}' in substitution ${this.s}`);
      this.i++;
      const value = this.vars.get(name);
      const set = op ? value !== undefined && value !== '' : value !== undefined;
      if (kind === '-') return set ? value! : alt;
      if (kind === '+') return set ? alt : '';
      if (!set) throw new InvalidArgumentError(`${name}: ${alt || 'is not set'}`);
      return value!;
    }
    let name = '';
    while (this.i < this.s.length && NAME.test(this.s[this.i])) name += this.s[this.i++];
    if (!name) return '$';
    return this.vars.get(name) ?? '';
  }
}
