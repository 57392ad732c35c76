// Unit specs beside the code. ESM all the way: Nest 12 ships ES modules only.
/** @type {import('jest').Config} */
export const esmPreset = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  // Sources import './x.js' as Node requires; Jest resolves them to the .ts beside.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
};

export default {
  ...esmPreset,
  rootDir: 'src',
  testRegex: '.*\\.spec\\.ts$',
};
