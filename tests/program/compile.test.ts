// How the program is compiled: `pulumi up` without type-checking (ts-node checking the program
// and the providers' typings cost 9 s and 1 GB each run), `npm test` with it. Read the way the
// SDK reads them, so a change that moves either side fails here rather than in an operator's run.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
// The SDK's own reader of the tsconfig named by Pulumi.yaml (cmd/run/run.js uses it).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const tsutils = require("@pulumi/pulumi/tsutils") as {
  loadTypeScriptCompilerOptions(path: string): Record<string, unknown>;
};

const PROJECT_DIR = join(__dirname, "..", "..");
const read = (file: string) => readFileSync(join(PROJECT_DIR, file), "utf8");

test("pulumi up compiles with the tsconfig Pulumi.yaml names, which skips type-checking", () => {
  const project = parse(read("Pulumi.yaml")) as {
    runtime: { name: string; options?: { tsconfig?: string } };
  };
  expect(project.runtime.name).toBe("nodejs");
  const tsconfig = project.runtime.options?.tsconfig;
  expect(tsconfig).toBe("tsconfig.pulumi.json");
  // run.js: transpileOnly = compilerOptions.noCheck, read from this file alone (no `extends`).
  const options = tsutils.loadTypeScriptCompilerOptions(join(PROJECT_DIR, String(tsconfig)));
  expect(options.noCheck).toBe(true);
});

test("npm test type-checks the program, the tests and the tools with tsconfig.json", () => {
  const scripts = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts;
  expect(scripts.test).toMatch(/^npm run typecheck && /);
  expect(scripts.typecheck).toBe("tsc --noEmit -p .");
  const options = tsutils.loadTypeScriptCompilerOptions(join(PROJECT_DIR, "tsconfig.json"));
  expect(options.noCheck).toBeUndefined();
  const include = (JSON.parse(read("tsconfig.json")) as { include: string[] }).include;
  expect(include).toEqual(expect.arrayContaining(["index.ts", "components/**/*.ts"]));
  // The options `pulumi up` compiles with are tsconfig.json's, only unchecked.
  const pulumiConfig = JSON.parse(read("tsconfig.pulumi.json")) as {
    extends: string;
    compilerOptions: Record<string, unknown>;
  };
  expect(pulumiConfig.extends).toBe("./tsconfig.json");
  expect(Object.keys(pulumiConfig.compilerOptions)).toEqual(["noCheck"]);
});
