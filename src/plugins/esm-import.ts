// Imports an ES module (a plugin file) by URL. dist/sonde-logster.cjs runs from a vm.Script with
// V8's code cache, where import() has no loader; its entry hands in one from an ES module.
let importer: (url: string) => Promise<unknown> = (url) => import(url);

export function setModuleImporter(f: (url: string) => Promise<unknown>): void {
  importer = f;
}

export function importModule(url: string): Promise<unknown> {
  return importer(url);
}
