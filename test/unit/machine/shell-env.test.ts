import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { detectShell, machineVars, noProxyVar, renderEnv, SHELLS, UNSET_VARS } from '../../../src/machine/shell-env.js';

const vars = machineVars('dev', 'tcp://10.0.0.5:2376', '/home/u/.berth/machine/machines/dev');

const golden: Record<string, string> = {
  bash: `export DOCKER_TLS_VERIFY="1"
export DOCKER_HOST="tcp://10.0.0.5:2376"
export DOCKER_CERT_PATH="/home/u/.berth/machine/machines/dev"
export DOCKER_MACHINE_NAME="dev"
# Run this command to configure your shell: 
# eval $(berth machine env dev)
`,
  fish: `set -gx DOCKER_TLS_VERIFY "1";
set -gx DOCKER_HOST "tcp://10.0.0.5:2376";
set -gx DOCKER_CERT_PATH "/home/u/.berth/machine/machines/dev";
set -gx DOCKER_MACHINE_NAME "dev";
# Run this command to configure your shell: 
# eval (berth machine env dev)
`,
  powershell: `$Env:DOCKER_TLS_VERIFY = "1"
$Env:DOCKER_HOST = "tcp://10.0.0.5:2376"
$Env:DOCKER_CERT_PATH = "/home/u/.berth/machine/machines/dev"
$Env:DOCKER_MACHINE_NAME = "dev"
# Run this command to configure your shell: 
# & berth machine env dev | Invoke-Expression
`,
  cmd: `SET DOCKER_TLS_VERIFY=1
SET DOCKER_HOST=tcp://10.0.0.5:2376
SET DOCKER_CERT_PATH=/home/u/.berth/machine/machines/dev
SET DOCKER_MACHINE_NAME=dev
REM Run this command to configure your shell: 
REM @FOR /f "tokens=*" %i IN ('berth machine env dev') DO @%i
`,
  tcsh: `setenv DOCKER_TLS_VERIFY "1";
setenv DOCKER_HOST "tcp://10.0.0.5:2376";
setenv DOCKER_CERT_PATH "/home/u/.berth/machine/machines/dev";
setenv DOCKER_MACHINE_NAME "dev";
# Run this command to configure your shell: 
# eval \`berth machine env dev\`
`,
  emacs: `(setenv "DOCKER_TLS_VERIFY" "1")
(setenv "DOCKER_HOST" "tcp://10.0.0.5:2376")
(setenv "DOCKER_CERT_PATH" "/home/u/.berth/machine/machines/dev")
(setenv "DOCKER_MACHINE_NAME" "dev")
;; Run this command to configure your shell: 
;; (with-temp-buffer (shell-command "berth machine env dev" (current-buffer)) (eval-buffer))
`,
};
golden.zsh = golden.bash;
golden.sh = golden.bash;

const goldenUnset: Record<string, string[]> = {
  bash: UNSET_VARS.map((k) => `unset ${k}`),
  fish: UNSET_VARS.map((k) => `set -e ${k};`),
  powershell: UNSET_VARS.map((k) => `Remove-Item Env:\\\\${k}`),
  cmd: UNSET_VARS.map((k) => `SET ${k}=`),
  tcsh: UNSET_VARS.map((k) => `unsetenv ${k};`),
  emacs: UNSET_VARS.map((k) => `(setenv "${k}" nil)`),
};

test.each(SHELLS)('env output for %s matches the golden text', (shell) => {
  expect(renderEnv(shell, vars, false, 'berth machine env dev')).toBe(golden[shell]);
});

test.each(Object.keys(goldenUnset))('unset output for %s', (shell) => {
  const out = renderEnv(shell as never, UNSET_VARS.map((k) => [k, '']), true, 'berth machine env -u').split('\n');
  expect(out.slice(0, 4)).toEqual(goldenUnset[shell]);
  expect(out[4]).toMatch(/Run this command to configure your shell: $/);
});

test('--no-proxy appends the IP to NO_PROXY, or to no_proxy when only that one is set', () => {
  expect(noProxyVar('10.0.0.5', {})).toEqual(['NO_PROXY', '10.0.0.5']);
  expect(noProxyVar('10.0.0.5', { NO_PROXY: 'localhost' })).toEqual(['NO_PROXY', 'localhost,10.0.0.5']);
  expect(noProxyVar('10.0.0.5', { no_proxy: 'a.b' })).toEqual(['no_proxy', 'a.b,10.0.0.5']);
  expect(noProxyVar('10.0.0.5', { NO_PROXY: '10.0.0.5' })).toEqual(['NO_PROXY', '10.0.0.5']);
});

test('shell detection: --shell wins, else $SHELL; unknown --shell is refused', () => {
  expect(detectShell('fish', { SHELL: '/bin/bash' })).toBe('fish');
  expect(detectShell(undefined, { SHELL: '/usr/bin/fish' })).toBe('fish');
  expect(detectShell(undefined, { SHELL: '/bin/tcsh' })).toBe('tcsh');
  expect(detectShell(undefined, { SHELL: 'C:\\x\\pwsh.exe'.split('\\').join('/') })).toBe('powershell');
  expect(detectShell(undefined, {})).toBe('bash');
  expect(() => detectShell('ksh93x', {})).toThrow(/unknown shell "ksh93x"/);
});

// The emitted text, run by the real shells: set then unset, with a value that needs quoting.
const tricky = machineVars('dev', 'tcp://10.0.0.5:2376', '/tmp/a dir/$x "q"');
const runners: [string, string, string[]][] = [
  ['bash', '/bin/bash', ['-c']],
  ['fish', '/usr/bin/fish', ['-c']],
  ['tcsh', '/usr/bin/tcsh', ['-f', '-c']],
];
test.each(runners)('%s evaluates the output and gets the values back', (shell, bin, flag) => {
  if (!existsSync(bin)) throw new Error(`${shell} is missing: apt-get install ${shell}`);
  const set = renderEnv(shell as never, tricky, false, 'berth machine env dev');
  const unset = renderEnv(shell as never, tricky.map(([k]) => [k, '']), true, 'berth machine env -u');
  const show = shell === 'tcsh' ? 'printenv DOCKER_CERT_PATH; printenv DOCKER_HOST' : 'printenv DOCKER_CERT_PATH; printenv DOCKER_HOST';
  const script = `${set}\n${show}\n${unset}\nprintenv DOCKER_HOST || echo unset-ok\n`;
  const out = execFileSync(bin, [...flag, script], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: '/tmp' } });
  expect(out).toBe('/tmp/a dir/$x "q"\ntcp://10.0.0.5:2376\nunset-ok\n');
});
