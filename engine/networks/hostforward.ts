import { run } from './exec.js';
import type { BridgeRules } from './nft.js';

/**
 * Hosts where the iptables FORWARD chain (table ip filter) drops by default — any host
 * where dockerd ran — would drop our containers' traffic whatever our own table
 * accepts: in nftables a drop in any base chain is final. There berthd adds its own
 * accept rules to that chain, marked with a comment naming its table, and removes
 * exactly those rules again. It never changes the chain's policy or other rules.
 */
export interface ForwardChain { policy: string; ours: number[] }

export async function readForwardChain(tag: string): Promise<ForwardChain | null> {
  let out: string;
  try {
    out = await run('nft', ['-j', 'list', 'chain', 'ip', 'filter', 'FORWARD']);
  } catch {
    return null; // no iptables filter table: nothing to accommodate
  }
  return parseForwardChain(JSON.parse(out), tag);
}

export function parseForwardChain(listing: { nftables?: Array<Record<string, any>> }, tag: string): ForwardChain | null {
  let policy: string | null = null;
  const ours: number[] = [];
  for (const item of listing.nftables ?? []) {
    if (item.chain?.name === 'FORWARD') policy = item.chain.policy ?? 'accept';
    if (item.rule && item.rule.comment === tag) ours.push(item.rule.handle);
  }
  return policy === null ? null : { policy, ours };
}

/** One transaction: drop our old rules, add the current ones when the policy drops. */
export function forwardScript(chain: ForwardChain, tag: string, bridges: BridgeRules[]): string {
  const lines = chain.ours.map((h) => `delete rule ip filter FORWARD handle ${h}`);
  if (chain.policy === 'drop') {
    const c = JSON.stringify(tag);
    for (const b of bridges) {
      const br = JSON.stringify(b.ifname);
      if (b.internal) {
        lines.push(`insert rule ip filter FORWARD iifname ${br} oifname ${br} accept comment ${c}`);
        continue;
      }
      lines.push(`insert rule ip filter FORWARD iifname ${br} accept comment ${c}`);
      lines.push(`insert rule ip filter FORWARD oifname ${br} ct state established,related accept comment ${c}`);
      lines.push(`insert rule ip filter FORWARD oifname ${br} ct status dnat accept comment ${c}`);
    }
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}
