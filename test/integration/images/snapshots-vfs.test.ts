import { snapshotterSuite } from '../../conformance/snapshotter.js';

snapshotterSuite('vfs');
