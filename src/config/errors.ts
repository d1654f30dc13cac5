// Recognises the errors that mean "the config is wrong" (exit 78) rather than a bug.
import { ConfigError } from './read-files.js';
import { YamlSyntaxError } from './yaml-source.js';

export function isConfigProblem(err: unknown): err is ConfigError | YamlSyntaxError {
  return err instanceof ConfigError || err instanceof YamlSyntaxError;
}
