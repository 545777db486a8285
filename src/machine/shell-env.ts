import { basename } from 'node:path';
import { InvalidArgumentError } from './errors.js';

/**
 * The text of `machine env` for each shell, exactly as Docker Machine prints it:
 * one line per variable, then two comment lines telling how to apply it.
 */
export const SHELLS = ['bash', 'zsh', 'sh', 'fish', 'powershell', 'cmd', 'tcsh', 'emacs'] as const;
export type Shell = (typeof SHELLS)[number];

export function detectShell(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): Shell {
  if (explicit) {
    const s = explicit.toLowerCase();
    if (!(SHELLS as readonly string[]).includes(s)) {
      throw new InvalidArgumentError(`unknown shell "${explicit}"`, { hint: `use --shell ${SHELLS.join('|')}` });
    }
    return s as Shell;
  }
  const name = basename(env.SHELL ?? '').replace(/\.exe$/i, '').toLowerCase();
  if (name === 'fish') return 'fish';
  if (name === 'tcsh' || name === 'csh') return 'tcsh';
  if (name === 'pwsh' || name === 'powershell') return 'powershell';
  if (name === 'cmd') return 'cmd';
  if (name === 'zsh') return 'zsh';
  return 'bash';
}

export type EnvVars = [string, string][];

interface Style {
  set(k: string, v: string): string;
  unset(k: string): string;
  comment: string;
  hint(cmd: string): string;
}

// csh has no escapes inside double quotes: a value with " $ ` or \ goes in single quotes.
const cshQuote = (v: string) => (/["$`\\]/.test(v) ? `'${v.replace(/'/g, `'\\''`)}'` : `"${v}"`);

const posixQuote = (v: string) => `"${v.replace(/(["\\$`])/g, '\\$1')}"`;

const STYLES: Record<Shell, Style> = {
  bash: { set: (k, v) => `export ${k}=${posixQuote(v)}`, unset: (k) => `unset ${k}`, comment: '#', hint: (c) => `eval $(${c})` },
  zsh: { set: (k, v) => `export ${k}=${posixQuote(v)}`, unset: (k) => `unset ${k}`, comment: '#', hint: (c) => `eval $(${c})` },
  sh: { set: (k, v) => `export ${k}=${posixQuote(v)}`, unset: (k) => `unset ${k}`, comment: '#', hint: (c) => `eval $(${c})` },
  fish: { set: (k, v) => `set -gx ${k} "${v.replace(/(["\\$])/g, '\\$1')}";`, unset: (k) => `set -e ${k};`, comment: '#', hint: (c) => `eval (${c})` },
  powershell: { set: (k, v) => `$Env:${k} = "${v.replace(/([`"$])/g, '`$1')}"`, unset: (k) => `Remove-Item Env:\\\\${k}`, comment: '#', hint: (c) => `& ${c} | Invoke-Expression` },
  cmd: { set: (k, v) => `SET ${k}=${v}`, unset: (k) => `SET ${k}=`, comment: 'REM', hint: (c) => `@FOR /f "tokens=*" %i IN ('${c}') DO @%i` },
  tcsh: { set: (k, v) => `setenv ${k} ${cshQuote(v)};`, unset: (k) => `unsetenv ${k};`, comment: '#', hint: (c) => `eval \`${c}\`` },
  emacs: { set: (k, v) => `(setenv "${k}" "${v.replace(/(["\\])/g, '\\$1')}")`, unset: (k) => `(setenv "${k}" nil)`, comment: ';;', hint: (c) => `(with-temp-buffer (shell-command "${c}" (current-buffer)) (eval-buffer))` },
};

/** Renders set lines (or unset lines when `unset`), then the usage hint. */
export function renderEnv(shell: Shell, vars: EnvVars, unset: boolean, hintCommand: string): string {
  const s = STYLES[shell];
  const lines = vars.map(([k, v]) => (unset ? s.unset(k) : s.set(k, v)));
  lines.push(`${s.comment} Run this command to configure your shell: `);
  lines.push(`${s.comment} ${s.hint(hintCommand)}`);
  return lines.join('\n') + '\n';
}

/** NO_PROXY (or no_proxy when that is the one set) with the machine's IP appended. */
export function noProxyVar(ip: string, env: NodeJS.ProcessEnv = process.env): [string, string] {
  const key = env.no_proxy !== undefined && env.NO_PROXY === undefined ? 'no_proxy' : 'NO_PROXY';
  const current = env[key] ?? '';
  const parts = current.split(',').filter(Boolean);
  if (!parts.includes(ip)) parts.push(ip);
  return [key, parts.join(',')];
}

/** The variables of `env NAME`. */
export function machineVars(name: string, url: string, certPath: string): EnvVars {
  return [['DOCKER_TLS_VERIFY', '1'], ['DOCKER_HOST', url], ['DOCKER_CERT_PATH', certPath], ['DOCKER_MACHINE_NAME', name]];
}

export const UNSET_VARS = ['DOCKER_TLS_VERIFY', 'DOCKER_HOST', 'DOCKER_CERT_PATH', 'DOCKER_MACHINE_NAME'];
