export { resolveModel, HubError, type ResolveModelOptions, type DownloadProgress } from './resolve.js';
export { hubCacheDir, repoFolderName, cachedSnapshot, isCompleteCheckpoint } from './cache.js';
export { loadPretrained } from './load.js';
