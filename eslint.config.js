// Lint runs in CI as part of `npm test`; the rules guard boundaries (no `any`) and promise handling.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules', 'dist', 'data', 'web/dist', 'test-output'] },
  ...tseslint.configs.recommended,
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
