// Lint rules that catch real bugs (floating promises, misused promises, non-exhaustive
// switches) and keep the layout the architecture (Nx module boundaries by tag).
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

const productionBoundaries = [
  {
    sourceTag: 'type:app',
    onlyDependOnLibsWithTags: ['type:domain', 'type:infra', 'type:contracts', 'type:client'],
  },
  // The api's generated client stands alone: it is what a partner's code could use too.
  { sourceTag: 'type:client', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:domain', 'type:contracts'] },
  { sourceTag: 'type:infra', onlyDependOnLibsWithTags: ['type:infra', 'type:contracts'] },
  { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts'] },
  // Tooling (the dev stack's runner) may drive the api through its client, as a partner would.
  // Tools may use each other (the chart's renderer resolves Helm as the local Kafka is resolved).
  {
    sourceTag: 'type:tooling',
    onlyDependOnLibsWithTags: ['type:tooling', 'type:infra', 'type:contracts', 'type:client'],
  },
  // Benchmarks drive whole services and libraries, through their public entry points only.
  {
    sourceTag: 'type:bench',
    onlyDependOnLibsWithTags: [
      'type:tooling',
      'type:testing',
      'type:infra',
      'type:domain',
      'type:contracts',
      'type:client',
    ],
  },
  {
    sourceTag: 'type:testing',
    onlyDependOnLibsWithTags: ['type:tooling', 'type:infra', 'type:domain', 'type:contracts', 'type:client'],
  },
];

// Tests may additionally use the shared test helpers and the local infrastructure.
const testBoundaries = productionBoundaries.map((constraint) => ({
  ...constraint,
  onlyDependOnLibsWithTags: [...constraint.onlyDependOnLibsWithTags, 'type:testing', 'type:tooling'],
}));

const testFiles = ['**/*.spec.ts', '**/*.integration-spec.ts', '**/test/**/*.ts'];

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'dist/**',
      '.nx/**',
      'coverage/**',
      'tmp/**',
      '**/*.js',
      '**/*.mjs',
      // Generated from the OpenAPI document (`npm run generate:client`); checked by being current.
      'libs/api-client/src/generated/**',
    ],
  },
  ...nx.configs['flat/base'],
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: 'Property[key.name="synchronize"][value.value=true]',
          message: 'Schema changes go through migrations only.',
        },
      ],
    },
  },
  {
    files: ['**/*.ts'],
    ignores: testFiles,
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        { enforceBuildableLibDependency: false, allow: [], depConstraints: productionBoundaries },
      ],
    },
  },
  {
    files: testFiles,
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        { enforceBuildableLibDependency: false, allow: [], depConstraints: testBoundaries },
      ],
      // jest's expect(...).rejects and mocks are typed loosely; the rules below stay on.
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  prettier,
);
