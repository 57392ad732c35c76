import { fileURLToPath } from 'node:url';

/** The project folder: two levels above this file in both src/ and dist/. */
export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
