import { RCODE_NXDOMAIN, TYPE_AAAA, encodeAnswer, encodeQuery, parseQuery, readAnswerAddresses } from '../../../../engine/networks/dnsmsg.js';

test('a query round-trips and gets A records', () => {
  const q = encodeQuery(0x1234, 'web.example');
  const parsed = parseQuery(q)!;
  expect(parsed.id).toBe(0x1234);
  expect(parsed.question).toMatchObject({ name: 'web.example', type: 1, klass: 1 });
  const answer = encodeAnswer(q, parsed, ['10.1.2.3', '10.1.2.4']);
  expect(answer.readUInt16BE(0)).toBe(0x1234);
  expect(answer.readUInt16BE(2) & 0x8000).toBe(0x8000);
  expect(readAnswerAddresses(answer)).toEqual({ rcode: 0, addresses: ['10.1.2.3', '10.1.2.4'] });
});

test('NXDOMAIN and AAAA questions', () => {
  const q = encodeQuery(7, 'nope', TYPE_AAAA);
  const parsed = parseQuery(q)!;
  expect(parsed.question.type).toBe(TYPE_AAAA);
  expect(readAnswerAddresses(encodeAnswer(q, parsed, [], RCODE_NXDOMAIN))).toEqual({ rcode: 3, addresses: [] });
});

test('malformed messages are not queries', () => {
  expect(parseQuery(Buffer.from([1, 2, 3]))).toBeNull();
  const q = encodeQuery(1, 'a.b');
  expect(parseQuery(q.subarray(0, q.length - 3))).toBeNull();
  const response = Buffer.from(q);
  response[2] |= 0x80;
  expect(parseQuery(response)).toBeNull();
});
