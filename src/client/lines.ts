import { StringDecoder } from 'node:string_decoder';

/**
 * The non-blank lines of an engine's JSON-lines stream (progress, events, stats,
 * build output). Decoding is per stream, not per chunk, so a character split across
 * two chunks stays whole.
 */
export async function* streamLines(stream: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of stream) {
    const parts = (rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk))).split('\n');
    rest = parts.pop()!;
    for (const line of parts) if (line.trim()) yield line;
  }
  rest += decoder.end();
  if (rest.trim()) yield rest;
}
