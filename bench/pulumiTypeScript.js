//   node bench/pulumiTypeScript.js PROGRAM.ts ARGS...
// Runs a TypeScript program compiled the way `pulumi up` compiles it, so the bench pays what
// an operator pays. It follows @pulumi/pulumi's cmd/run/run.js (its non-ESM branch): the
// language host passes Pulumi.yaml's `runtime.options.tsconfig` as PULUMI_NODEJS_TSCONFIG_PATH
// (default tsconfig.json); ts-node type-checks unless PULUMI_NODEJS_TRANSPILE_ONLY says
// otherwise or that file's own compilerOptions set `noCheck` (read without following
// `extends`, as the SDK's tsutils does); and the SDK's defaults go under the file's options.
// BENCH_TSCONFIG names another file, to compare.
const fs = require("node:fs");
const path = require("node:path");
const yaml = require("yaml");
const tsutils = require("@pulumi/pulumi/tsutils");

const project = path.resolve(__dirname, "..");
const runtime = yaml.parse(fs.readFileSync(path.join(project, "Pulumi.yaml"), "utf8")).runtime;
const named = (typeof runtime === "object" && runtime.options?.tsconfig) || "tsconfig.json";
const tsconfig = path.resolve(project, process.env.BENCH_TSCONFIG || named);
const compilerOptions = tsutils.loadTypeScriptCompilerOptions(tsconfig);
const env = process.env.PULUMI_NODEJS_TRANSPILE_ONLY;
const transpileOnly = env ? env === "true" : compilerOptions.noCheck;
const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();

require(tsnodeRequire).register({
  compiler: typescriptRequire,
  transpileOnly,
  project: tsconfig,
  skipProject: false,
  compilerOptions: {
    target: "ES2020",
    module: "nodenext",
    moduleResolution: "nodenext",
    sourceMap: "true",
    ...compilerOptions,
  },
});
process.env.BENCH_TYPESCRIPT = JSON.stringify({
  tsconfig: path.relative(project, tsconfig),
  typeChecked: !transpileOnly,
});
// As run.js does: the program sees its own arguments, and is required, not imported.
const [program, ...args] = process.argv.slice(2);
process.argv = [process.argv[0], path.resolve(program), ...args];
require(path.resolve(program));
