import { run } from './exec.js';
import type { PortBinding } from './ports.js';

/** One bridge of this daemon, as the NAT/filter rules need it. */
export interface BridgeRules { ifname: string; subnet: string; internal: boolean }
/** One published port, DNAT'ed to a container address. */
export interface PortRule extends PortBinding { containerIp: string }

export interface RuleState { bridges: BridgeRules[]; ports: PortRule[] }

/** The daemon's own table name, derived from its default bridge so that two daemons coexist. */
export function tableName(defaultBridge: string): string {
  return `berth_${defaultBridge.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

const q = (s: string) => JSON.stringify(s);

/**
 * The whole table as one nft script. Applying it replaces the table in one transaction
 * (nft -f is atomic), so rules are never half-updated and never touch other tables.
 * Loopback destinations are left to the userland proxy: DNAT of 127.0.0.1 would need
 * route_localnet on the host, a host-wide sysctl berthd doesn't change.
 */
export function renderRuleset(table: string, state: RuleState): string {
  const dnat = state.ports.map((p) => {
    const daddr = p.hostIp === '0.0.0.0' ? '' : `ip daddr ${p.hostIp} `;
    return `    ${daddr}${p.proto} dport ${p.hostPort} dnat to ${p.containerIp}:${p.containerPort}`;
  });
  const post: string[] = [];
  const fwd: string[] = [];
  for (const b of state.bridges) {
    if (b.internal) {
      fwd.push(`    iifname ${q(b.ifname)} oifname != ${q(b.ifname)} drop`);
      fwd.push(`    oifname ${q(b.ifname)} iifname != ${q(b.ifname)} drop`);
    } else {
      post.push(`    ip saddr ${b.subnet} oifname != ${q(b.ifname)} masquerade`);
    }
    // hairpin: a container reaching a published port on its own bridge through a host
    // address (iifname is unknown in postrouting, so the source subnet tells)
    post.push(`    ct status dnat ip saddr ${b.subnet} oifname ${q(b.ifname)} masquerade`);
  }
  fwd.push('    ct status dnat accept');
  const bridges = state.bridges.map((b) => b.ifname);
  for (const a of bridges) for (const b of bridges) if (a !== b) fwd.push(`    iifname ${q(a)} oifname ${q(b)} drop`);
  return [
    `table ip ${table} {}`,
    `delete table ip ${table}`,
    `table ip ${table} {`,
    '  chain ports {',
    ...dnat,
    '  }',
    '  chain prerouting {',
    '    type nat hook prerouting priority dstnat; policy accept;',
    '    fib daddr type local jump ports',
    '  }',
    '  chain output {',
    '    type nat hook output priority -100; policy accept;',
    '    ip daddr != 127.0.0.0/8 fib daddr type local jump ports',
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    ...post,
    '  }',
    '  chain forward {',
    '    type filter hook forward priority filter; policy accept;',
    ...fwd,
    '  }',
    '}',
    '',
  ].join('\n');
}

export function deleteScript(table: string): string {
  return `table ip ${table} {}\ndelete table ip ${table}\n`;
}

/** Runs one nft transaction from a script on stdin. */
export async function nftApply(script: string): Promise<void> {
  await run('nft', ['-f', '-'], script).catch((err: Error) => { throw new Error(err.message.replace(/^nft -f -: /, 'nft: '), { cause: err }); });
}
