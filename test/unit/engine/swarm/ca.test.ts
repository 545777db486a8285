import { X509Certificate } from 'node:crypto';
import { certIdentity, issueNodeCert, newSwarmCa } from '../../../../engine/swarm/ca.js';

test('a node certificate is signed by the swarm CA and names the node, its role and its addresses', () => {
  const ca = newSwarmCa();
  const other = newSwarmCa();
  const node = new X509Certificate(issueNodeCert(ca, 'node1', 'manager', 'cluster1', ['10.9.8.7', '10.9.8.7']).cert);
  expect(new X509Certificate(ca.cert).ca).toBe(true);
  expect(node.verify(new X509Certificate(ca.cert).publicKey)).toBe(true);
  expect(node.verify(new X509Certificate(other.cert).publicKey)).toBe(false);
  expect(node.subjectAltName).toBe('IP Address:10.9.8.7, IP Address:127.0.0.1, DNS:localhost, DNS:node1');
  expect(certIdentity({ CN: 'node1', OU: 'swarm-manager' })).toEqual({ nodeId: 'node1', role: 'manager' });
  expect(certIdentity({ CN: 'node1', OU: 'something-else' })).toBeUndefined();
});
