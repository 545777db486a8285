import { snapshotterSuite } from '../../conformance/snapshotter.js';

snapshotterSuite('overlay2');
