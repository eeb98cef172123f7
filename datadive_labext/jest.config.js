/** jest: unit tests of the panel's pure logic (src/*logic.ts, formschema, drafts, generatedcells, ...), src/api.ts helpers, src/model.ts with a fake client. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: { module: 'commonjs', esModuleInterop: true, strict: true, types: ['jest'], target: 'ES2020', lib: ['ES2020', 'DOM'], isolatedModules: true } }]
  },
  testRegex: '.*\\.test\\.ts$',
  moduleFileExtensions: ['ts', 'tsx', 'js', 'json']
};
