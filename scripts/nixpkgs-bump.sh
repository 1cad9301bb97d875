#!/bin/sh
# nixpkgs-bump.sh [STACK_FILE...]: moves each stack's nixpkgs pin (default: every
# Pulumi.*.yaml that has one) to the newest commit of its release branch, with the hash
# nix-prefetch-url --unpack computes for that commit's tree: the hash every NixOS node then
# checks the tree against before it builds. Prints a Markdown line per pin that moved, and
# nothing when all are current. Run by .github/workflows/nixpkgs-bump.yml; fine by hand too.
set -eu
repo=https://github.com/NixOS/nixpkgs
[ $# -gt 0 ] || set -- Pulumi.*.yaml

fail() {
  echo "nixpkgs-bump: $*" >&2
  exit 1
}

# The value of KEY under FILE's `nixpkgs:` mapping (comments and quotes dropped).
pin_value() {
  awk -v key="$2" '
    function indent(s) { match(s, /^ */); return RLENGTH }
    BEGIN { pin = -1 }
    /^ *nixpkgs: *(#.*)?$/ { pin = indent($0); next }
    pin >= 0 && /^ *[^ #]/ {
      if (indent($0) <= pin) { pin = -1; next }
      line = $0; sub(/^ */, "", line)
      name = line; sub(/:.*/, "", name)
      if (name != key) next
      value = line; sub(/^[^:]*: */, "", value); sub(/ *#.*$/, "", value); gsub(/"/, "", value)
      print value
    }
  ' "$1"
}

for file in "$@"; do
  branch=$(pin_value "$file" branch)
  [ -n "$branch" ] || continue
  case $branch in nixos-[0-9][0-9].[0-9][0-9]) ;; *) fail "$file: $branch is not a release branch" ;; esac
  old_rev=$(pin_value "$file" rev)
  old_sha=$(pin_value "$file" sha256)
  new_rev=$(git ls-remote "$repo" "refs/heads/$branch" | cut -f1)
  echo "$new_rev" | grep -Eqx '[0-9a-f]{40}' || fail "$file: $repo has no branch $branch"
  [ "$new_rev" = "$old_rev" ] && continue
  new_sha=$(nix-prefetch-url --unpack "$repo/archive/$new_rev.tar.gz") ||
    fail "$file: nix-prefetch-url could not fetch $branch at $new_rev"
  # Only the two values change; a stand-in comment on either line goes with its value.
  sed -i -e "s|^\( *rev: *\)\"\{0,1\}$old_rev\"\{0,1\}\( .*\)\{0,1\}\$|\1$new_rev|" \
    -e "s|^\( *sha256: *\)\"\{0,1\}$old_sha\"\{0,1\}\( .*\)\{0,1\}\$|\1$new_sha|" "$file"
  [ "$(pin_value "$file" rev) $(pin_value "$file" sha256)" = "$new_rev $new_sha" ] ||
    fail "$file: could not rewrite the pin; edit rev and sha256 by hand"
  echo "- $file: $branch $(echo "$old_rev" | cut -c1-12) → $(echo "$new_rev" | cut -c1-12) ([changes]($repo/compare/$old_rev...$new_rev))"
done
