// The types of plugin-types.mjs, for the test that calls it.
/** Copies the plugin API's types (dist/types and the declarations they import) into `dest`; returns the number of files. */
export function stageTypes(root: string, dest: string): number;
