#!/usr/bin/env bash
# Prints the Debian packages' version, made from `git describe --tags
# --always --dirty`: a tag v1.2.3 gives 1.2.3; 4 commits past it
# 1.2.3+4.gabc1234; no tag at all 0.0+git<commits>.gabc1234, which sorts
# below any tagged release and grows with each commit, so apt upgrades
# from one build to a later one; uncommitted changes add +dirty.
# Debian versions allow [A-Za-z0-9.+~] here (no hyphen: there is no
# Debian revision), so anything else becomes a dot.
set -euo pipefail

described=$(git describe --tags --always --dirty)
dirty=""
if [[ $described == *-dirty ]]; then
  dirty="+dirty"
  described=${described%-dirty}
fi
if git describe --tags >/dev/null 2>&1; then
  # v1.2.3 or v1.2.3-4-gabc1234
  version=${described#v}
  if [[ $version =~ ^(.*)-([0-9]+)-(g[0-9a-f]+)$ ]]; then
    version="${BASH_REMATCH[1]}+${BASH_REMATCH[2]}.${BASH_REMATCH[3]}"
  fi
else
  version="0.0+git$(git rev-list --count HEAD).g${described}"
fi
version="${version}${dirty}"
version=$(printf '%s' "$version" | tr -c 'A-Za-z0-9.+~' '.')
# A Debian version starts with a digit.
if [[ ! $version =~ ^[0-9] ]]; then
  version="0.0+${version}"
fi
printf '%s\n' "$version"
