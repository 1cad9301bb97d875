# Evaluates nix/clawd-mesh/options.nix without a nixpkgs checkout (CI has none), with a
# stand-in for nixpkgs' lib: mkOption and the types options.nix may use, each checking what
# nixpkgs' own type checks. A type not offered here (types.attrs, types.anything) fails the
# evaluation, so options.nix cannot go back to untyped data unnoticed.
#
# For each node.json in `documents`: `errors`, what the module system would refuse (an
# attribute with no option, a required option left unset, a value of the wrong type), each
# naming its option path; and `failed`, the messages of options.nix's assertions that do not
# hold. `schema` describes every option, for the tests to read.
{ optionsFile, documents }:
let
  inherit (builtins)
    attrNames concatLists concatMap elem elemAt filter genList isAttrs isBool isInt isList
    isString length mapAttrs match toJSON;

  type = name: check: extra: { _type = "option-type"; inherit name check; } // extra;
  types = rec {
    str = type "str" isString { };
    bool = type "bool" isBool { };
    int = type "int" isInt { };
    port = type "port" (v: isInt v && v >= 0 && v <= 65535) { };
    ints.positive = type "positiveInt" (v: isInt v && v > 0) { };
    enum = values: type "enum" (v: elem v values) { inherit values; };
    strMatching = re: type "strMatching" (v: isString v && match re v != null) { inherit re; };
    listOf = elemType: type "listOf" isList { inherit elemType; };
    attrsOf = elemType: type "attrsOf" isAttrs { inherit elemType; };
    nullOr = elemType: type "nullOr" (v: v == null || elemType.check v) { inherit elemType; };
    either = left: right: type "either" (v: left.check v || right.check v) { inherit left right; };
    oneOf = ts: builtins.foldl' either (builtins.head ts) (builtins.tail ts);
    submodule = module: type "submodule" isAttrs { inherit (module) options; };
  };
  lib = {
    inherit types;
    mkOption = args: { _type = "option"; } // args;
  };

  evalWith = node: import optionsFile { inherit lib; config.clawdMesh.node = node; };
  root = (evalWith null).options.clawdMesh.node;

  # What the module system's merge refuses in `v`, for an option of type `t` at `path`.
  conform = path: t: v:
    let
      wrong = [ "${path}: ${toJSON v} is not a valid ${t.name}" ];
      at = i: "${path}[${toString i}]";
    in
    if t.name == "submodule" then
      if !isAttrs v then wrong
      else
        map (n: "The option `${path}.${n}' does not exist") (filter (n: !(t.options ? ${n})) (attrNames v))
        ++ concatMap
          (n:
            if v ? ${n} then conform "${path}.${n}" t.options.${n}.type v.${n}
            else if t.options.${n} ? default then [ ]
            else [ "The option `${path}.${n}' is used but not defined" ])
          (attrNames t.options)
    else if t.name == "listOf" then
      if !isList v then wrong
      else concatLists (genList (i: conform (at i) t.elemType (elemAt v i)) (length v))
    else if t.name == "attrsOf" then
      if !isAttrs v then wrong
      else concatMap (n: conform "${path}.${n}" t.elemType v.${n}) (attrNames v)
    else if t.name == "nullOr" then
      if v == null then [ ] else conform path t.elemType v
    else if t.name == "either" then
      if conform path t.left v == [ ] || conform path t.right v == [ ] then [ ] else wrong
    else if t.check v then [ ]
    else wrong;

  describe = t:
    { type = t.name; }
    // (if t ? values then { inherit (t) values; } else { })
    // (if t ? re then { inherit (t) re; } else { })
    // (if t ? elemType then { elemType = describe t.elemType; } else { })
    // (if t.name == "either" then { left = describe t.left; right = describe t.right; } else { })
    // (if t.name == "submodule" then {
      options = mapAttrs
        (_: o: { description = o.description or null; hasDefault = o ? default; type = describe o.type; })
        t.options;
    } else { });

  check = file:
    let
      node = builtins.fromJSON (builtins.readFile file);
      errors = conform "clawdMesh.node" root.type node;
    in
    {
      inherit errors;
      # Assertions read the typed value; one that does not type-checks is not asked.
      failed =
        if errors != [ ] then [ ]
        else map (a: a.message) (filter (a: !a.assertion) (evalWith node).config.assertions);
    };
in
{
  schema = { description = root.description or null; type = describe root.type; };
  results = map check documents;
}
