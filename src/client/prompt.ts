import { createInterface } from 'node:readline';

/** docker's "[y/N]" confirmation for prune: true only for y/yes on stdin. */
export async function confirm(question: string, write: (s: string) => void): Promise<boolean> {
  write(`${question}\nAre you sure you want to continue? [y/N] `);
  const rl = createInterface({ input: process.stdin });
  try {
    const line: string = await new Promise((resolve) => {
      rl.once('line', resolve);
      rl.once('close', () => resolve(''));
    });
    return /^y(es)?$/i.test(line.trim());
  } finally {
    rl.close();
  }
}
