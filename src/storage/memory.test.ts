import { runStorageConformance } from './conformance.js';
import { memoryStorage } from './memory.js';

runStorageConformance('memory', (opts) => memoryStorage(opts));
