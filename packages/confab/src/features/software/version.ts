/**
 * The library's version, as package.json says it (XEP-0092 answers carry it). Generated: a
 * library that runs in browsers cannot read its package.json at run time, and importing JSON
 * would put all of package.json into every bundle. Kept in sync by version.test.ts (beside this
 * file), which fails when packages/confab/package.json says another version; update this line
 * when releasing: `node -p "require('./packages/confab/package.json').version"`.
 */
export const LIBRARY_VERSION = '0.1.0';
