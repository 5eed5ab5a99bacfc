import js from '@eslint/js';
import comments from '@eslint-community/eslint-plugin-eslint-comments/configs';
import vitest from '@vitest/eslint-plugin';
import react from 'eslint-plugin-react';
import reactHooks from 'eslint-plugin-react-hooks';
import {defineConfig} from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// `npm run lint`: typescript-eslint's strict type-checked rules for the
// TypeScript, React's and the hooks' rules for the Ink UI, vitest's for the
// tests, and no lint comment without its reason. Zero warnings allowed
// (--max-warnings 0): a rule is either an error or off.

export default defineConfig(
	{ignores: ['dist/', 'coverage/', '.data/', 'logs/']},
	{linterOptions: {reportUnusedDisableDirectives: 'error', reportUnusedInlineConfigs: 'error'}},

	js.configs.recommended,
	tseslint.configs.strictTypeChecked,
	tseslint.configs.stylisticTypeChecked,
	{
		languageOptions: {
			parserOptions: {project: './tsconfig.lint.json', tsconfigRootDir: import.meta.dirname},
			globals: globals.node,
		},
	},
	{
		rules: {
			// The code declares its shapes with `type` (unions, intersections, mapped types alike): one way, not two.
			'@typescript-eslint/consistent-type-definitions': ['error', 'type'],
			// `T[]` for a plain element type, `Array<…>` around anything longer, as the code already writes them.
			'@typescript-eslint/array-type': ['error', {default: 'array-simple'}],
			// `env['PORT']`: names read from an index signature (env, JSON) keep the brackets that say so.
			'@typescript-eslint/dot-notation': ['error', {allowIndexSignaturePropertyAccess: true}],
			// Numbers in messages are what most messages are made of; undefined, objects and any are still caught.
			'@typescript-eslint/restrict-template-expressions': ['error', {allowNumber: true}],
			// `const {notBefore, ...job} = run` is how the code leaves fields out of a copy.
			'@typescript-eslint/no-unused-vars': ['error', {ignoreRestSiblings: true}],
			// `() => resolve()` and `event => send(event)` are callbacks, not values anyone reads.
			'@typescript-eslint/no-confusing-void-expression': ['error', {ignoreArrowShorthand: true}],
			// Terminal output is what jobdeck filters (logs/sanitize.ts, logs/terminal-filter.ts) and refuses in names
			// (core/validation.ts): its regular expressions are about control characters on purpose.
			'no-control-regex': 'off',
			// `stderr || 'fallback'`: `||` on a string means "or, when empty", which is what the messages mean.
			'@typescript-eslint/prefer-nullish-coalescing': ['error', {ignorePrimitives: {string: true}}],
		},
	},
	{
		// The layers (docs/architecture.md): the UI and the shared vocabulary know only the Scheduler
		// interface, so that the UI runs the same on an engine and on a socket client.
		files: ['source/ui/**', 'source/core/**', 'source/logs/**'],
		rules: {
			'no-restricted-imports': ['error', {patterns: [{group: ['**/engine/**', '**/control/**', '**/cli/**'], message: 'ui/, core/ and logs/ drive a scheduler through core/scheduler.ts only'}]}],
		},
	},
	{
		files: ['source/engine/**', 'source/control/**'],
		rules: {
			'no-restricted-imports': ['error', {patterns: [{group: ['**/ui/**', '**/cli/**', 'ink', 'ink-*', 'react'], message: 'the engine and the control socket are free of UI and command-line code'}]}],
		},
	},
	comments.recommended,
	{
		rules: {
			// "No eslint-disable without a reason on the same line": `// eslint-disable-next-line RULE -- why`.
			'@eslint-community/eslint-comments/require-description': 'error',
			'@eslint-community/eslint-comments/no-unlimited-disable': 'error',
		},
	},

	{files: ['**/*.tsx'], ...react.configs.flat.recommended},
	{files: ['**/*.tsx'], ...react.configs.flat['jsx-runtime']},
	{files: ['**/*.tsx'], settings: {react: {version: 'detect'}}},
	{files: ['**/*.tsx', 'source/ui/hooks/**/*.ts'], ...reactHooks.configs.flat['recommended-latest']},
	{
		// The React Compiler's rule (jobdeck is not compiled by it). These key handlers are subscribed once and read
		// the latest render from a ref written during that render, so that keys arriving together each see the one
		// before (text-field.tsx says why); the list window remembers where it was the same way.
		files: ['source/ui/components/text-field.tsx', 'source/ui/hooks/use-keymap.ts', 'source/ui/hooks/use-list-window.ts'],
		rules: {'react-hooks/refs': 'off'},
	},

	{files: ['test/**'], ...vitest.configs.recommended},
	{
		files: ['test/**'],
		rules: {
			// expect(value, 'what it is about') is vitest's message argument.
			'vitest/valid-expect': ['error', {maxArgs: 2}],
			// A check in a hook fails the tests that hook serves, as one in a test does; and a table's
			// tests are declared through `const test = defect ? it.fails : it`.
			'vitest/no-standalone-expect': ['error', {additionalTestBlockFunctions: ['beforeAll', 'beforeEach', 'afterAll', 'afterEach', 'test']}],
			// waitForScreen fails the test when the screen never shows what it waits for; expectX helpers assert.
			'vitest/expect-expect': ['error', {assertFunctionNames: ['expect', 'expect*', '**.waitForScreen*']}],
			// In a test, `rows[0]!` that is not there fails the test with a TypeError, which is what a check would do.
			'@typescript-eslint/no-non-null-assertion': 'off',
			// vitest types its asymmetric matchers (expect.any(Number), expect.stringMatching(…)) as `any`, and the
			// tests put them in the objects they expect.
			'@typescript-eslint/no-unsafe-assignment': 'off',
		},
	},

	{
		// Plain JavaScript (the benchmarks, the screenshot script, this file): every value is `any` to the
		// type checker, so the rules about unsafe `any` and operand types would only ask for JSDoc types.
		// The rules that need no declared types (floating promises, awaits of non-promises) stay on.
		files: ['**/*.{js,mjs}'],
		rules: {
			'@typescript-eslint/no-unsafe-argument': 'off',
			'@typescript-eslint/no-unsafe-assignment': 'off',
			'@typescript-eslint/no-unsafe-call': 'off',
			'@typescript-eslint/no-unsafe-member-access': 'off',
			'@typescript-eslint/no-unsafe-return': 'off',
			'@typescript-eslint/restrict-plus-operands': 'off',
			'@typescript-eslint/restrict-template-expressions': 'off',
			'@typescript-eslint/unbound-method': 'off',
			// `any` may be nullish, so this one would ask for `??` where `||` means "or an empty string".
			'@typescript-eslint/prefer-nullish-coalescing': 'off',
			'@typescript-eslint/prefer-promise-reject-errors': ['error', {allowThrowingAny: true}],
		},
	},
);
