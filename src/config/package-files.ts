import { fileURLToPath } from 'node:url';

// This module sits two folders below the package root both as src/config/*.ts in a clone and as
// dist/config/*.js in an installed package, so conform's own files are found from here, wherever
// npm put the package, and never from the user's working directory.
const root = new URL('../../', import.meta.url);

/** conform's package root: the folder holding its package.json. */
export const PACKAGE_ROOT = fileURLToPath(root);
/** The suites shipped with conform, usable in any project as `conform:<name>`. */
export const BUNDLED_SUITES_DIR = fileURLToPath(new URL('suites/', root));
/** Golden of the bundled suites, recorded on the built-in cpu backend with the fixture model. */
export const BUNDLED_GOLDEN_DIR = fileURLToPath(new URL('golden/', root));
/** The CLI entry; a backend launched with `command: conform` runs it with this Node. */
export const CONFORM_BIN = fileURLToPath(new URL('bin/conform.js', root));
/** The published JSON Schemas, for the `yaml-language-server` line of the files `conform init` writes. */
export const SCHEMAS_DIR = fileURLToPath(new URL('schemas/', root));
