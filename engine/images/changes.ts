/** `docker import --change`: the Dockerfile instructions it accepts, applied to a config. */
import { InvalidArgumentError } from '../errors.js';
import type { ImageConfig } from './index.js';

/** The few Dockerfile instructions `docker import --change` accepts. */
export function applyChanges(config: NonNullable<ImageConfig['config']>, changes: string[]): NonNullable<ImageConfig['config']> {
  const out = { ...config };
  for (const line of changes) {
    const m = /^\s*(\w+)\s+(.*)$/s.exec(line);
    if (!m) throw new InvalidArgumentError(`--change ${JSON.stringify(line)}: expected INSTRUCTION ARGS`);
    const [, ins, arg] = m;
    const list = (): string[] => {
      const t = arg.trim();
      if (t.startsWith('[')) {
        try {
          return JSON.parse(t) as string[];
        } catch {
          throw new InvalidArgumentError(`--change ${ins}: invalid JSON array ${t}`);
        }
      }
      return ['/bin/sh', '-c', t];
    };
    switch (ins.toUpperCase()) {
      case 'CMD': out.Cmd = list(); break;
      case 'ENTRYPOINT': out.Entrypoint = list(); break;
      case 'ENV': out.Env = applyEnvChange(out.Env ?? [], arg); break;
      case 'WORKDIR': out.WorkingDir = arg.trim(); break;
      case 'USER': out.User = arg.trim(); break;
      case 'EXPOSE': out.ExposedPorts = { ...(out.ExposedPorts ?? {}), ...Object.fromEntries(arg.trim().split(/\s+/).map((p) => [p.includes('/') ? p : `${p}/tcp`, {}])) }; break;
      case 'VOLUME': out.Volumes = { ...(out.Volumes ?? {}), ...Object.fromEntries((arg.trim().startsWith('[') ? (JSON.parse(arg) as string[]) : arg.trim().split(/\s+/)).map((v) => [v, {}])) }; break;
      case 'LABEL': {
        const labels = { ...(out.Labels ?? {}) };
        for (const kv of arg.match(/(?:[^\s"]+|"[^"]*")+/g) ?? []) {
          const i = kv.indexOf('=');
          if (i > 0) labels[kv.slice(0, i)] = kv.slice(i + 1).replace(/^"|"$/g, '');
        }
        out.Labels = labels;
        break;
      }
      case 'STOPSIGNAL': out.StopSignal = arg.trim(); break;
      default: throw new InvalidArgumentError(`--change ${ins}: only CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME and WORKDIR are supported`);
    }
  }
  return out;
}

/** `ENV K=V K2="v 2"` or legacy `ENV K value`, expanded as a Dockerfile does with the env before it. */
export function applyEnvChange(current: string[], arg: string): string[] {
  const env = envMap(current);
  const pairs: Array<[string, string]> = [];
  const words = shellWords(arg, env);
  if (words.length && !words[0].includes('=')) {
    const legacy = /^\s*(\S+)\s+(.*)$/s.exec(arg);
    if (!legacy) throw new InvalidArgumentError(`ENV ${arg}: expected KEY=VALUE`);
    pairs.push([legacy[1], shellWords(legacy[2], env, false)[0]]);
  } else {
    for (const w of words) {
      const i = w.indexOf('=');
      if (i <= 0) throw new InvalidArgumentError(`ENV ${arg}: ${w} is not KEY=VALUE`);
      pairs.push([w.slice(0, i), w.slice(i + 1)]);
    }
  }
  let next = current;
  for (const [k, v] of pairs) next = [...next.filter((e) => !e.startsWith(`${k}=`)), `${k}=${v}`];
  return next;
}

function envMap(env: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env) {
    const i = e.indexOf('=');
    if (i > 0) m.set(e.slice(0, i), e.slice(i + 1));
  }
  return m;
}

/**
 * Dockerfile word processing: quotes, backslash escapes and $VAR, ${VAR},
 * ${VAR:-default}, ${VAR:+alt} from `env`. With split=false the text is one word.
 */
export function shellWords(text: string, env: Map<string, string>, split = true): string[] {
  const words: string[] = [];
  let cur = '';
  let has = false;
  let i = 0;
  const expand = (): string => {
    i++;
    if (text[i] === '{') {
      const end = text.indexOf('}', i);
      if (end < 0) throw new InvalidArgumentError(`--change: missing } in ${text}`);
      const body = text.slice(i + 1, end);
      i = end + 1;
      const m = /^(\w+)(?::([-+])(.*))?$/s.exec(body);
      if (!m) throw new InvalidArgumentError(`--change: bad substitution \${${body}}`);
      const v = env.get(m[1]);
      if (m[2] === '-') return v ? v : m[3];
      if (m[2] === '+') return v ? m[3] : '';
      return v ?? '';
    }
    const m = /^\w+/.exec(text.slice(i));
    if (!m) return '$';
    i += m[0].length;
    return env.get(m[0]) ?? '';
  };
  while (i < text.length) {
    const c = text[i];
    if (split && /\s/.test(c)) {
      if (has) words.push(cur);
      cur = '';
      has = false;
      i++;
    } else if (c === '\\' && i + 1 < text.length) {
      cur += text[i + 1];
      has = true;
      i += 2;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new InvalidArgumentError(`--change: unmatched ' in ${text}`);
      cur += text.slice(i + 1, end);
      has = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length && '"\\$'.includes(text[i + 1])) {
          cur += text[i + 1];
          i += 2;
        } else if (text[i] === '$') cur += expand();
        else cur += text[i++];
      }
      if (text[i] !== '"') throw new InvalidArgumentError(`--change: unmatched " in ${text}`);
      i++;
      has = true;
    } else if (c === '$') {
      cur += expand();
      has = true;
    } else {
      cur += c;
      has = true;
      i++;
    }
  }
  if (has || !split) words.push(split ? cur : cur.trim());
  return words;
}
