// Lint runs in CI as part of `npm test`; the rules guard boundaries (no `any`) and promise handling.
// The promise rules need types: each .ts file is linted with the program of its nearest
// tsconfig.json (the root one for src, test, bench, scripts; web/tsconfig.json for the dashboard).
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules', 'dist', 'data', 'web/dist', 'test-output'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        projectService: {
          // Files outside both tsconfigs (the Vite config) get a default program.
          allowDefaultProject: ['web/vite.config.ts'],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // A promise nobody awaits loses its rejection (an unhandled rejection ends the process)
      // and its ordering. Fire-and-forget is written `void p` only where the rejection is
      // handled inside p or cannot happen.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's test()/describe() return a promise the runner itself awaits and reports.
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] },
          ],
        },
      ],
      // An async function where a void callback is expected (event emitters, timers, Fastify
      // hooks that are not awaited) drops its rejection the same way.
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // The dashboard shows device- and user-controlled text (issue 12: a device named
    // `<img src=x onerror=…>` ran script in the admin's session). Text goes into the DOM as text
    // nodes (web/src/dom.ts `h`, textContent); nothing parses a string as HTML. Leaflet writes
    // string content as HTML, so its content methods are called only from web/src/map/leaflet-text.ts.
    files: ['web/**/*.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        ...['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'createContextualFragment', 'srcdoc'].map((property) => ({
          property,
          message: 'Parses a string as HTML: build elements with h() or set textContent.',
        })),
        { object: 'document', property: 'write', message: 'Parses a string as HTML: build elements with h().' },
        { object: 'document', property: 'writeln', message: 'Parses a string as HTML: build elements with h().' },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.property.name=/^(bindTooltip|bindPopup|setContent|setTooltipContent|setPopupContent)$/]",
          message: 'Leaflet renders string content as HTML: use bindTextTooltip/bindElementPopup from web/src/map/leaflet-text.ts.',
        },
        {
          selector: "NewExpression[callee.name='DOMParser'], CallExpression[callee.property.name='parseFromString']",
          message: 'Parses a string as HTML: build elements with h() or set textContent.',
        },
        {
          selector: "Literal[value=/^\\s*javascript:/i], TemplateElement[value.raw=/^\\s*javascript:/i]",
          message: 'No javascript: URLs.',
        },
      ],
    },
  },
);
