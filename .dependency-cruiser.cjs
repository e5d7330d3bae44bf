/**
 * The layering rule (README "How it is built"): rooms listed bottom to top; a module may import
 * its own room and the rooms below it, never one above, and no two modules may form a cycle.
 * Test code (`*.test.ts`, `testing/` folders, test/, bench/, scripts/) may import test helpers;
 * product code may not.
 */
const ROOMS = [
  'core',
  'graph',
  'runtime',
  'models',
  'peft',
  'data',
  'train',
  'exec',
  'trials',
  'storage',
  'search',
  'report',
  'pipeline',
  'dashboard',
  'cli',
];

const upward = ROOMS.map((room, i) => ({
  name: `layering-${room}`,
  comment: `${room} may import only ${ROOMS.slice(0, i + 1).join(', ')} (README: the layering)`,
  severity: 'error',
  from: { path: `^src/${room}/` },
  to: { path: `^src/(${ROOMS.slice(i + 1).join('|')})/` },
})).filter((r) => !r.to.path.endsWith('()/'));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'no import cycles, within a room or between rooms',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    ...upward,
    {
      name: 'no-test-helpers-in-product',
      comment: 'product code never imports test helpers (testing/ folders, test/)',
      severity: 'error',
      from: { path: '^src/', pathNot: ['\\.test\\.ts$', '/testing/', '\\.worker\\.ts$'] },
      to: { path: ['/testing/', '^test/'] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // fixtures/ holds ad-hoc generator scripts with their own (uninstalled) dependencies.
    exclude: { path: ['node_modules', '^dist/', '/fixtures/'] },
    // TypeScript 7 (the native compiler) has no JS API for dependency-cruiser to parse with: swc does it.
    parser: 'swc',
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      extensions: ['.ts', '.js', '.mjs'],
      conditionNames: ['import', 'node', 'default'],
    },
  },
};
