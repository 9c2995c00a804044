// Validates each workflow file named on the command line against SchemaStore's GitHub workflow schema, which
// @action-validator/core carries, offline. Prints one JSON line per file: {file, errors}, each error "path: detail".
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const { validateWorkflow } = createRequire(import.meta.url)("@action-validator/core");

// A oneOf that fails lists why each of its branches failed; report those, not just "OneOf conditions are not met".
function flatten(errors) {
  return errors.flatMap((error) => error.states?.length
    ? flatten(error.states.flatMap((state) => state.errors))
    : [`${error.path ?? ""}: ${error.detail ?? error.title}`]);
}

for (const file of process.argv.slice(2)) {
  const state = validateWorkflow(readFileSync(file, "utf8"));
  console.log(JSON.stringify({ file, errors: [...new Set(flatten(state.errors))] }));
}
